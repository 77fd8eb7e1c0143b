// The CBOR codec lives in src/wire/cbor-codec.ts with the other wire formats. This re-export only
// serves src/cli/site-commands.ts, which is being reworked on another branch: delete it once that
// file imports from src/wire.
export { CborCodec, looksLikeCborMap } from '../wire/cbor-codec.js';
