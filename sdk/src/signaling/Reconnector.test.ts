import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../errors.js';
import { CloseCode } from '../protocol/errors.js';
import type { ServerNotifications } from '../protocol/messages.js';
import { DefaultReconnectPolicy, type ReconnectContext, type ReconnectPolicy } from './ReconnectPolicy.js';
import { Reconnector, type AccessRefresher, type IceSession, type ReconnectorEvents, type ReconnectSignal, type RoomAccessUpdate } from './Reconnector.js';
import type { ResumeCredentials } from './SignalClient.js';

type Welcome = ServerNotifications['welcome'];

const welcome = (resumed: boolean, participantId = 'p1'): Welcome => ({
  participantId,
  identity: 'ann',
  name: 'Ann',
  roomId: 'room',
  routerRtpCapabilities: {},
  resumeKey: `key-${participantId}`,
  resumed,
  grants: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false },
});

/** What the fake server does with the next socket: welcome it, or fail it (before or after it opened). */
type Outcome = Welcome | { fail: Error; opened?: boolean };

/** A signaling client whose sockets follow a script, recording what the reconnector asked of it. */
class FakeSignal implements ReconnectSignal {
  connected = false;
  holding = false;
  readonly connects: (ResumeCredentials | undefined)[] = [];
  /** `url token` of every attempt. */
  readonly targets: string[] = [];
  readonly #script: Outcome[];

  constructor(script: Outcome[]) {
    this.#script = script;
  }

  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
  }

  connect(url: string, token: string, resume?: ResumeCredentials): Promise<Welcome> {
    this.connects.push(resume);
    this.targets.push(`${url} ${token}`);
    const next = this.#script.shift();
    if (!next) return Promise.reject(ConnectionError.network('no server'));
    if ('fail' in next) {
      this.connected = next.opened === true;
      return Promise.reject(next.fail);
    }
    this.connected = true;
    return Promise.resolve(next);
  }
}

/** A WebRTC session whose ICE restarts are counted; `connectOnRestart` decides whether they work. */
class FakeSession implements IceSession {
  restarts = 0;
  transportsConnected = true;
  constructor(readonly restartError?: Error) {}

  restartIce(): Promise<void> {
    this.restarts++;
    return this.restartError ? Promise.reject(this.restartError) : Promise.resolve();
  }
}

/** No waiting between attempts; records every context it was asked about. */
class RecordingPolicy implements ReconnectPolicy {
  readonly contexts: ReconnectContext[] = [];
  constructor(readonly maxAttempts: number) {}

  nextRetryDelayInMs(context: ReconnectContext): number | null {
    this.contexts.push(context);
    return context.retryCount >= this.maxAttempts ? null : 0;
  }
}

function setup(
  script: Outcome[],
  options: { session?: FakeSession; maxAttempts?: number; iceRestartTimeoutMs?: number; refreshAccess?: AccessRefresher } = {},
) {
  const signal = new FakeSignal(script);
  const policy = new RecordingPolicy(options.maxAttempts ?? 5);
  let session: FakeSession | undefined = options.session ?? new FakeSession();
  let current = welcome(false);
  const adopted: Welcome[] = [];
  const rejoined: Welcome[] = [];
  const accessed: RoomAccessUpdate[] = [];
  const reconnector = new Reconnector({
    signal,
    url: 'ws://media.test/rtc',
    token: 't',
    policy,
    iceRestartTimeoutMs: options.iceRestartTimeoutMs ?? 50,
    refreshAccess: options.refreshAccess,
    adoptAccess: (access) => accessed.push(access),
    session: () => session,
    resumeCredentials: () => ({ participantId: current.participantId, key: current.resumeKey }),
    adoptResumed: (w) => {
      current = w;
      adopted.push(w);
    },
    rejoin: async (w) => {
      current = w;
      session = new FakeSession();
      rejoined.push(w);
    },
  });
  const events: string[] = [];
  for (const name of ['reconnecting', 'moved', 'reconnected', 'iceRestored', 'failed'] as const) reconnector.on(name, () => events.push(name));
  const next = <E extends keyof ReconnectorEvents>(event: E): Promise<ReconnectorEvents[E]> =>
    new Promise((resolve) => reconnector.once(event, (...args) => resolve(args)));
  return { signal, policy, reconnector, events, adopted, rejoined, accessed, next, session: () => session };
}

const lost = (): ConnectionError => ConnectionError.closed(1006, 'abnormal closure');

describe('Reconnector: a lost signaling socket', () => {
  it('resumes the same session on the first attempt: new socket with the resume key, ICE restarted, queue released', async () => {
    const { signal, reconnector, events, adopted, next, session } = setup([welcome(true)]);
    const done = next('reconnected');
    reconnector.handleSignalLost(lost());
    expect(signal.holding).toBe(true);
    const [info] = await done;
    expect(info.resumed).toBe(true);
    expect(signal.connects).toEqual([{ participantId: 'p1', key: 'key-p1' }]);
    expect(adopted).toHaveLength(1);
    expect(session()?.restarts).toBe(1);
    expect(signal.holding).toBe(false);
    expect(events).toEqual(['reconnecting', 'reconnected']);
    expect(reconnector.active).toBe(false);
  });

  it('retries as the policy says, with the count, the elapsed time and the last failure', async () => {
    const refused = ConnectionError.network('connection refused');
    const { policy, reconnector, next } = setup([{ fail: refused }, { fail: refused }, welcome(true)]);
    const done = next('reconnected');
    const cause = lost();
    reconnector.handleSignalLost(cause);
    await done;
    expect(policy.contexts.map((c) => c.retryCount)).toEqual([0, 1, 2]);
    expect(policy.contexts[0]?.retryReason).toBe(cause);
    expect(policy.contexts[2]?.retryReason).toBe(refused);
    expect(policy.contexts.every((c) => c.elapsedMs >= 0)).toBe(true);
  });

  it('rejoins when the server no longer has the session, and after a failure on an opened socket', async () => {
    const { signal, reconnector, rejoined, next } = setup([{ fail: new Error('join failed'), opened: true }, welcome(false, 'p2')]);
    const done = next('reconnected');
    reconnector.handleSignalLost(lost());
    const [info] = await done;
    expect(info.resumed).toBe(false);
    // The first attempt tried to resume; the socket opened and failed, so the second rejoined.
    expect(signal.connects).toEqual([{ participantId: 'p1', key: 'key-p1' }, undefined]);
    expect(rejoined.map((w) => w.participantId)).toEqual(['p2']);
  });

  it('rejoins straight away when the server closed with the Rejoin code', async () => {
    const { signal, reconnector, next } = setup([welcome(false, 'p2')]);
    const done = next('reconnected');
    reconnector.handleSignalLost(ConnectionError.closed(CloseCode.Rejoin, 'session lost'));
    await done;
    expect(signal.connects).toEqual([undefined]);
  });

  it('gives up when the policy returns null: CONNECTION_FAILED with the last failure as cause', async () => {
    const refused = ConnectionError.network('connection refused');
    const { signal, reconnector, next } = setup([{ fail: refused }, { fail: refused }, { fail: refused }], { maxAttempts: 3 });
    const failed = next('failed');
    reconnector.handleSignalLost(lost());
    const [error] = await failed;
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(error.message).toContain('3 attempts');
    expect(error.cause).toBe(refused);
    expect(signal.connects).toHaveLength(3);
  });

  it('does not retry after a terminal close or a terminal refusal', async () => {
    const first = setup([welcome(true)]);
    const failed = first.next('failed');
    first.reconnector.handleSignalLost(ConnectionError.closed(CloseCode.Removed, 'removed'));
    expect((await failed)[0].closeCode).toBe(CloseCode.Removed);
    expect(first.signal.connects).toEqual([]);

    const second = setup([{ fail: ConnectionError.unauthorized('token expired') }, welcome(true)]);
    const refused = second.next('failed');
    second.reconnector.handleSignalLost(lost());
    expect((await refused)[0].reason).toBe('unauthorized');
    expect(second.signal.connects).toHaveLength(1);
  });

  it('close() stops the attempts and nothing is emitted afterwards', async () => {
    const slow: ReconnectPolicy = { nextRetryDelayInMs: ({ retryCount }) => (retryCount === 0 ? 0 : 60_000) };
    const signal = new FakeSignal([{ fail: ConnectionError.network('refused') }]);
    const reconnector = new Reconnector({
      signal,
      url: 'ws://x',
      token: 't',
      policy: slow,
      iceRestartTimeoutMs: 50,
      session: () => undefined,
      resumeCredentials: () => undefined,
      adoptResumed: () => undefined,
      rejoin: () => Promise.resolve(),
    });
    const events: string[] = [];
    reconnector.on('failed', () => events.push('failed')).on('reconnected', () => events.push('reconnected'));
    reconnector.handleSignalLost(lost());
    await new Promise((resolve) => setImmediate(resolve));
    expect(signal.connects).toHaveLength(1);
    reconnector.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(signal.connects).toHaveLength(1);
    expect(events).toEqual([]);
  });
});

describe('Reconnector: a fresh access from the app (media node failover)', () => {
  it('the node does not answer: asks for a fresh access and rejoins on the node it names', async () => {
    const refused = ConnectionError.network('connection refused');
    const answers: RoomAccessUpdate[] = [
      { url: 'ws://media.test/rtc', token: 't2' }, // the registry has not noticed yet: same node
      { url: 'ws://other.test/rtc', token: 't3', iceServers: [{ urls: ['turn:turn.test'], username: 'u', credential: 'c' }] },
    ];
    const { signal, reconnector, events, rejoined, accessed, next } = setup([{ fail: refused }, { fail: refused }, welcome(false, 'p2')], {
      refreshAccess: () => Promise.resolve(answers.shift()!),
    });
    const done = next('reconnected');
    reconnector.handleSignalLost(lost());
    const [info] = await done;
    expect(info.resumed).toBe(false);
    expect(signal.targets).toEqual(['ws://media.test/rtc t', 'ws://media.test/rtc t2', 'ws://other.test/rtc t3']);
    // Resume on the same node; once moved, a new session (nothing to resume on another node).
    expect(signal.connects).toEqual([{ participantId: 'p1', key: 'key-p1' }, { participantId: 'p1', key: 'key-p1' }, undefined]);
    expect(rejoined.map((w) => w.participantId)).toEqual(['p2']);
    expect(accessed.at(-1)?.iceServers).toEqual([{ urls: ['turn:turn.test'], username: 'u', credential: 'c' }]);
    expect(reconnector.url).toBe('ws://other.test/rtc');
    expect(events).toEqual(['reconnecting', 'moved', 'reconnected']);
  });

  it("while the refresher still names the node that does not answer, retries come soon and do not spend the policy's attempts", async () => {
    const refused = ConnectionError.network('connection refused');
    const answers: RoomAccessUpdate[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ url: 'ws://media.test/rtc', token: `same-${i}` })),
      { url: 'ws://other.test/rtc', token: 'moved' },
    ];
    const { signal, policy, reconnector, next } = setup([...answers.slice(0, 6).map(() => ({ fail: refused })), welcome(false, 'p2')], {
      maxAttempts: 2,
      refreshAccess: () => Promise.resolve(answers.shift()!),
    });
    const done = next('reconnected');
    reconnector.handleSignalLost(lost());
    await done;
    expect(signal.targets.at(-1)).toBe('ws://other.test/rtc moved');
    expect(signal.targets).toHaveLength(7);
    // The first failure counts; the five answers naming the same dead node do not.
    expect(policy.contexts.map((c) => c.retryCount)).toEqual([0, 1, 1, 1, 1, 1, 1]);
  });

  it('a draining node or an expired token is not the end with a refresher; without one it is', async () => {
    const draining = ConnectionError.refused('DRAINING');
    const withRefresher = setup([{ fail: draining }, welcome(false, 'p2')], {
      refreshAccess: () => Promise.resolve({ url: 'ws://other.test/rtc', token: 't2' }),
    });
    const done = withRefresher.next('reconnected');
    withRefresher.reconnector.handleSignalLost(ConnectionError.closed(CloseCode.GoingAway, 'SHUTDOWN'));
    await done;
    expect(withRefresher.signal.targets).toEqual(['ws://media.test/rtc t', 'ws://other.test/rtc t2']);

    const expired = setup([welcome(true)], { refreshAccess: () => Promise.resolve({ url: 'ws://media.test/rtc', token: 'fresh' }) });
    const back = expired.next('reconnected');
    expired.reconnector.handleSignalLost(ConnectionError.unauthorized('TOKEN_EXPIRED'));
    expect((await back)[0].resumed).toBe(true);
    expect(expired.signal.targets).toEqual(['ws://media.test/rtc fresh']);

    const without = setup([{ fail: draining }]);
    const failed = without.next('failed');
    without.reconnector.handleSignalLost(lost());
    expect((await failed)[0].serverCode).toBe('DRAINING');
  });

  it('a refresher that fails counts as a failed attempt; the policy still decides when to give up', async () => {
    const down = new Error('API unreachable');
    const { signal, policy, reconnector, next } = setup([{ fail: ConnectionError.network('refused') }], {
      maxAttempts: 3,
      refreshAccess: () => Promise.reject(down),
    });
    const failed = next('failed');
    reconnector.handleSignalLost(lost());
    const [error] = await failed;
    expect(error.cause).toBe(down);
    expect(signal.connects).toHaveLength(1);
    expect(policy.contexts.map((c) => c.retryCount)).toEqual([0, 1, 2, 3]);
  });
});

describe('Reconnector: ICE failure with signaling up', () => {
  it('restarts ICE on the same session and reports it restored once the transports connect', async () => {
    const session = new FakeSession();
    session.transportsConnected = false;
    const { signal, reconnector, events, next } = setup([], { session });
    const restored = next('iceRestored');
    reconnector.handleTransportFailure();
    // A second failure report while restarting starts nothing new.
    reconnector.handleTransportFailure();
    await new Promise((resolve) => setImmediate(resolve));
    session.transportsConnected = true;
    reconnector.handleTransportsConnected();
    await restored;
    expect(session.restarts).toBe(1);
    expect(signal.connects).toEqual([]);
    expect(events).toEqual(['reconnecting', 'iceRestored']);
  });

  it('restarts again after iceRestartTimeoutMs, then gives up as the policy says', async () => {
    const session = new FakeSession();
    session.transportsConnected = false;
    const { policy, reconnector, next } = setup([], { session, maxAttempts: 2, iceRestartTimeoutMs: 20 });
    const failed = next('failed');
    reconnector.handleTransportFailure();
    const [error] = await failed;
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(session.restarts).toBe(2);
    expect(policy.contexts[1]?.retryReason?.message).toContain('did not connect');
  });

  it('hands over to the signaling reconnection when the socket is gone too', async () => {
    const session = new FakeSession(ConnectionError.closed(1006, 'abnormal closure'));
    const { signal, reconnector, events, next } = setup([welcome(false, 'p2')], { session });
    const done = next('reconnected');
    reconnector.handleTransportFailure();
    await done;
    expect(signal.connects).toHaveLength(1);
    expect(events).toEqual(['reconnecting', 'reconnected']);
  });
});

describe('DefaultReconnectPolicy', () => {
  it('tries at once, then waits the jittered backoff, and gives up after maxAttempts', () => {
    const policy = new DefaultReconnectPolicy({ maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 1000 });
    const delay = (retryCount: number): number | null => policy.nextRetryDelayInMs({ retryCount, elapsedMs: 0 });
    expect(delay(0)).toBe(0);
    expect(delay(1)).toBeGreaterThanOrEqual(125);
    expect(delay(1)).toBeLessThanOrEqual(250);
    expect(delay(3)).toBeGreaterThanOrEqual(500);
    expect(delay(3)).toBeLessThanOrEqual(1000);
    expect(delay(4)).toBeNull();
  });
});
