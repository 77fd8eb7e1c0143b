// Size caps for the site file and the files it names (docs/configuration.md, "Limits"). Far above
// any real file of each kind, far below what would hurt a gateway with 512 MiB of RAM.

/** The site file: thousands of devices and points fit in well under 1 MiB. */
export const SITE_FILE_MAX_BYTES = 4 * 1024 * 1024;
/** mqtt.password_file. */
export const PASSWORD_FILE_MAX_BYTES = 64 * 1024;
/** mqtt.tls ca, cert and key (PEM); a CA bundle of a few hundred certificates fits. */
export const TLS_FILE_MAX_BYTES = 1024 * 1024;
/** Most problems listed for one file; the rest are counted ("and N more"). */
export const MAX_LISTED_ISSUES = 100;
/** remote_config.public_key (PEM): an Ed25519 key is about 113 bytes. */
export const PUBLIC_KEY_MAX_BYTES = 64 * 1024;
/** One device profile file (a register map of a few hundred points is far below this). */
export const PROFILE_FILE_MAX_BYTES = 1024 * 1024;
