// The connection's states and transitions, as pure functions: what each state allows and what
// each event moves it to. The real connection is exercised against mosquitto in mqtt-uplink-*.
import { describe, expect, it } from 'vitest';
import {
  accepting, announced, announcedAt, closed, connackReceived, connecting, sessionOf, stopAccepting, tcpConnected,
  type LinkState,
} from '../../src/uplink/link-state.js';

const session = { v5: undefined };
const open = announced(connackReceived(tcpConnected(connecting), session), 1000);

describe('LinkState', () => {
  it('goes connecting → announcing → open; only open accepts publishes', () => {
    const states: LinkState[] = [connecting, tcpConnected(connecting), connackReceived(connecting, session), open];
    expect(states.map((s) => s.phase)).toEqual(['connecting', 'connecting', 'announcing', 'open']);
    expect(states.map((s) => accepting(s))).toEqual([false, false, false, true]);
    expect(announcedAt(open)).toBe(1000);
  });

  it('has a session (subscriptions may be sent) from CONNACK until closed', () => {
    const announcing = connackReceived(connecting, session);
    expect([connecting, announcing, open, stopAccepting(open), closed(open)].map((s) => sessionOf(s) !== undefined))
      .toEqual([false, true, true, true, false]);
  });

  it('ignores events that do not belong to the state (a late CONNACK, a second announcement)', () => {
    const closing = stopAccepting(connackReceived(connecting, session));
    expect(connackReceived(closing, session)).toBe(closing);
    expect(announced(closing, 5)).toBe(closing);
    expect(connackReceived(open, { v5: undefined })).toBe(open);
    expect(announced(open, 5)).toBe(open);
    expect(tcpConnected(open)).toBe(open);
  });

  it('closing refuses publishes and remembers whether \'disconnect\' is owed', () => {
    expect(accepting(stopAccepting(open))).toBe(false);
    expect(announcedAt(stopAccepting(open))).toBe(1000);
    expect(announcedAt(stopAccepting(connackReceived(connecting, session)))).toBeUndefined();
  });

  it.each([
    ['never got a TCP connection', connecting, false, undefined],
    ['got TCP, no CONNACK', tcpConnected(connecting), true, undefined],
    ['CONNACK, not yet announced', connackReceived(connecting, session), true, undefined],
    ['announced', open, true, 1000],
    ['announced, then closing', stopAccepting(open), true, 1000],
  ] as const)('closed after "%s": reached the broker %s, announced at %s', (_name, from, reachedBroker, at) => {
    const end = closed(from);
    expect(end).toEqual({ phase: 'closed', reachedBroker, announcedAt: at });
    expect(closed(end)).toBe(end);
  });
});
