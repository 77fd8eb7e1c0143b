// The life of one connection attempt (a "link") as one state with explicit transitions. Pure:
// MqttUplink feeds in what mqtt.js reports and acts on the state that comes back.
//
//   connecting ──CONNACK──▶ announcing ──online status acked──▶ open
//        │                       │                               │
//        └───────────────────────┴──── failing or stopping ──────┴──▶ closing ──▶ closed
//   (any state may also go straight to closed when the socket closes)
//
// - Only `open` accepts publishes. Everywhere else publish() fails at once rather than wait:
//   the uplink never queues, because a queue in memory is lost on a crash and would resend
//   behind the journal's back; the forwarder resends from the journal instead.
// - `announcing` exists so the retained `online` status is acknowledged before 'connect' is
//   emitted: consumers see a gateway come online before its data.
// - `closing`: mqtt.js is tearing the connection down (its callbacks fail before 'close'
//   arrives) or we are stopping. Publishes are refused; 'disconnect' is still owed if 'connect'
//   was emitted.
// - `closed` is final for this link; a reconnect is a new link in `connecting`.
import type { Mqtt5Publisher } from './mqtt5-publish.js';

/** What a link learnt from CONNACK: its MQTT 5 publish state (aliases, packet size limit). */
export interface Session {
  v5: Mqtt5Publisher | undefined;
}

export type LinkState =
  /** TCP/TLS and CONNECT under way; `tcp` once a TCP connection was made. */
  | { readonly phase: 'connecting'; readonly tcp: boolean }
  /** CONNACK received; the retained online status is on its way. */
  | { readonly phase: 'announcing'; readonly session: Session }
  /** 'connect' emitted at `since` (clock ms); publishes accepted. */
  | { readonly phase: 'open'; readonly session: Session; readonly since: number }
  /** Going away: publishes refused. `announcedAt` is set when 'connect' was emitted. */
  | { readonly phase: 'closing'; readonly reachedBroker: boolean; readonly session?: Session; readonly announcedAt?: number }
  /** Over. `announcedAt` as in closing. */
  | { readonly phase: 'closed'; readonly reachedBroker: boolean; readonly announcedAt?: number };

export type ClosedLink = Extract<LinkState, { phase: 'closed' }>;

export const connecting: LinkState = { phase: 'connecting', tcp: false };

/** The socket connected: a failure from here on is the broker's, not the network's. */
export function tcpConnected(s: LinkState): LinkState {
  return s.phase === 'connecting' ? { phase: 'connecting', tcp: true } : s;
}

/** CONNACK arrived. Only a link still connecting takes it (mqtt.js can be late after an end). */
export function connackReceived(s: LinkState, session: Session): LinkState {
  return s.phase === 'connecting' ? { phase: 'announcing', session } : s;
}

/** The online status was acknowledged (or there is none): 'connect' is emitted now. */
export function announced(s: LinkState, now: number): LinkState {
  return s.phase === 'announcing' ? { phase: 'open', session: s.session, since: now } : s;
}

/** The connection is failing, or we are stopping: refuse publishes from now on. */
export function stopAccepting(s: LinkState): LinkState {
  switch (s.phase) {
    case 'connecting':
      return { phase: 'closing', reachedBroker: s.tcp };
    case 'announcing':
      return { phase: 'closing', reachedBroker: true, session: s.session };
    case 'open':
      return { phase: 'closing', reachedBroker: true, session: s.session, announcedAt: s.since };
    default:
      return s;
  }
}

/** The connection ended for good. */
export function closed(s: LinkState): ClosedLink {
  if (s.phase === 'closed') return s;
  const c = stopAccepting(s) as Extract<LinkState, { phase: 'closing' }>;
  return { phase: 'closed', reachedBroker: c.reachedBroker, announcedAt: c.announcedAt };
}

/** Publishes may be sent. */
export function accepting(s: LinkState): s is Extract<LinkState, { phase: 'open' }> {
  return s.phase === 'open';
}

/** The CONNACK's session, while the connection is up (subscriptions may be sent). */
export function sessionOf(s: LinkState): Session | undefined {
  return s.phase === 'announcing' || s.phase === 'open' || s.phase === 'closing' ? s.session : undefined;
}

/** When 'connect' was emitted for this link; undefined if it never was (no 'disconnect' is owed). */
export function announcedAt(s: LinkState): number | undefined {
  if (s.phase === 'open') return s.since;
  return s.phase === 'closing' || s.phase === 'closed' ? s.announcedAt : undefined;
}
