// An impairment test bed: each browser runs in a network namespace of its own, linked by a veth
// pair to a bridge in the host namespace where the platform listens. Each link is impaired per
// direction and can be changed during a call:
//   uplink   (browser → SFU): egress of the namespace's veth end, and its nftables output hook;
//   downlink (SFU → browser): egress of the host's veth end (a bridge port), and the namespace's
//                             nftables input hook.
// Rate: a tc token bucket (tbf). Loss: an nftables rule dropping a random share of packets
// (`numgen random`), because this machine's kernel has no sch_netem (nor act_gact's random drop):
// `tc qdisc add ... netem` answers "Specified qdisc kind is unknown". For the same reason delay and
// jitter go through a user-space delay line inside the namespace (delay-line.ts), started when a
// profile first asks for them and removed when none does.
//
// A lossy link drops silently, so loss is never applied in the sending host's own stack: a drop in
// the sender's output (or postrouting) hook fails its sendto() with EPERM, and Chromium answers that
// by sending the packet again at once (Firefox does not), so "10 % uplink loss" was 1 % for Chromium.
// Uplink loss is dropped where the packet enters the bridge (a bridge-family table in the host
// namespace, `tmq<pid>`), downlink loss at the browser's input hook (the SFU, the sender, sees nothing).
//
// Names carry the prefix `tmq` and the owning process id, so parallel runs never touch each
// other's and stale ones (their process gone) are removed at start. Everything is torn down on
// close() and, as a last resort, when the process exits.
import { DelayLine, type Delay } from './delay-line.js';
import { NetnsResources, removeStale, replaceTableScript, run, runAsync } from './netns.js';

/** Impairment of one direction of a link. */
export interface DirectionImpairment {
  /** Random packet loss, percent (0-100, steps of 0.1). */
  lossPercent?: number;
  /** Rate cap, kbit/s. */
  rateKbit?: number;
  /** Added one-way delay, ms, and its jitter (± ms, uniform, packets kept in order). */
  delayMs?: number;
  jitterMs?: number;
}

/** Impairment of a browser's link; a direction left out is clean. */
export interface Impairment {
  up?: DirectionImpairment;
  down?: DirectionImpairment;
}

export interface Namespace {
  /** `tmq-a-<pid>-<n>` */
  readonly name: string;
  /** The browser's address in the bed. */
  readonly ip: string;
  /** Replaces the link's impairment (an empty object clears it). */
  impair(impairment: Impairment): Promise<void>;
  /** The impairment in force. */
  readonly current: Impairment;
}

export interface TestBed {
  /** The host's address on the bed's bridge: the platform listens here. */
  readonly hostIp: string;
  addNamespace(): Promise<Namespace>;
  close(): Promise<void>;
}

const PREFIX = 'tmq';
/** The mark and routing table of the delay lines' outgoing packets (inside each namespace). */
const DELAYED_MARK = 0x7a;
const DELAYED_TABLE = 122;

const delayOf = (d: DirectionImpairment | undefined): Delay => ({ delayMs: d?.delayMs ?? 0, jitterMs: d?.jitterMs ?? 0 });
const isDelayed = (d: DirectionImpairment | undefined): boolean => (d?.delayMs ?? 0) > 0 || (d?.jitterMs ?? 0) > 0;
const STALE = {
  namespaces: new RegExp(`^${PREFIX}-a-(?<pid>\\d+)-\\d+$`),
  links: new RegExp(`^${PREFIX}[bh](?<pid>\\d+)`),
  tables: { family: 'bridge', pattern: new RegExp(`^${PREFIX}(?<pid>\\d+)$`) },
} as const;

function tbfArgs(rateKbit: number): string[] {
  // A burst of at least one MTU-sized packet plus 10 ms at the rate; a queue of ~400 ms at the rate
  // (what a 3G or DSL modem buffers), so a narrow link delays and then drops, as real ones do.
  const burst = Math.max(3000, Math.round((rateKbit * 1000) / 8 / 100));
  return ['tbf', 'rate', `${rateKbit}kbit`, 'burst', String(burst), 'latency', '400ms'];
}

async function setRate(netns: string | undefined, dev: string, rateKbit: number | undefined): Promise<void> {
  if (rateKbit === undefined) await runAsync(netns, 'tc', ['qdisc', 'del', 'dev', dev, 'root']).catch(() => undefined);
  else await runAsync(netns, 'tc', ['qdisc', 'replace', 'dev', dev, 'root', ...tbfArgs(rateKbit)]);
}

/** A chain dropping `percent` of the packets that come in on each device (none at 0 or undefined). */
function lossChain(name: string, hook: 'input' | 'prerouting', drops: [dev: string, percent: number | undefined][]): string {
  const rules = drops
    .filter(([, percent]) => percent)
    .map(([dev, percent]) => `\n    iifname "${dev}" numgen random mod 1000 < ${Math.round(percent! * 10)} drop`)
    .join('');
  return `  chain ${name} {\n    type filter hook ${hook} priority 0; policy accept;${rules}\n  }`;
}

/** Replaces table `family name` (creating it if missing) with `body`, in `netns` or the host namespace. */
async function replaceTable(netns: string | undefined, family: 'inet' | 'bridge', name: string, body: string): Promise<void> {
  await runAsync(netns, 'nft', ['-f', '-'], replaceTableScript(family, name, body));
}

/** Creates a bed: a bridge `tmqb<pid>` with 10.232.<k>.1/24, k from the pid. */
export async function createTestBed(): Promise<TestBed> {
  removeStale(STALE);
  const pid = process.pid;
  const subnet = `10.232.${(pid % 250) + 1}`;
  const hostIp = `${subnet}.1`;
  const bridge = `${PREFIX}b${pid}`;
  const resources = new NetnsResources();
  // Uplink loss of every namespace, by its host-side veth end: one bridge table for the bed.
  const uplinkTable = `${PREFIX}${pid}`;
  const uplinkLoss = new Map<string, number | undefined>();
  // Writes run one after another, each from the map as it is then, so parallel impair() calls all land.
  let uplinkWrites: Promise<void> = Promise.resolve();
  const writeUplinkTable = (): Promise<void> => {
    const write = uplinkWrites
      .catch(() => undefined)
      .then(() => replaceTable(undefined, 'bridge', uplinkTable, lossChain('up', 'prerouting', [...uplinkLoss])));
    uplinkWrites = write;
    return write;
  };
  try {
    resources.addBridge(bridge, { address: `${hostIp}/24` });
    resources.defer(() => run(undefined, 'nft', ['delete', 'table', 'bridge', uplinkTable]));
  } catch (error) {
    resources.close();
    throw error;
  }
  let count = 0;
  return {
    hostIp,
    async addNamespace() {
      const n = ++count;
      const name = `${PREFIX}-a-${pid}-${n}`;
      const hostEnd = `${PREFIX}h${pid}n${n}`;
      const nsEnd = `${PREFIX}i${pid}n${n}`;
      const ip = `${subnet}.${n + 1}`;
      resources.addNamespace(name);
      // A default route as on any real host: browsers pick their local address by asking for it.
      resources.addVeth({ ns: name, inside: nsEnd, outside: hostEnd, bridge, addresses: [`${ip}/24`], gateway: hostIp });
      let current: Impairment = {};
      let delayLine: DelayLine | undefined;
      const delays = { up: `${PREFIX}u${pid}n${n}`, down: `${PREFIX}d${pid}n${n}` };
      const setDelay = async (impairment: Impairment): Promise<void> => {
        if (isDelayed(impairment.up) || isDelayed(impairment.down)) {
          delayLine ??= await DelayLine.start({
            ns: name,
            veth: nsEnd,
            localIp: ip,
            peerIp: hostIp,
            devices: delays,
            mark: DELAYED_MARK,
            table: DELAYED_TABLE,
          });
          delayLine.set(delayOf(impairment.up), delayOf(impairment.down));
        } else if (delayLine) {
          await delayLine.stop();
          delayLine = undefined;
        }
      };
      const namespace: Namespace = {
        name,
        ip,
        get current() {
          return current;
        },
        async impair(impairment) {
          await setRate(name, nsEnd, impairment.up?.rateKbit);
          await setRate(undefined, hostEnd, impairment.down?.rateKbit);
          uplinkLoss.set(hostEnd, impairment.up?.lossPercent);
          await writeUplinkTable();
          // Delayed packets come in through the delay line's device, not the veth.
          await replaceTable(
            name,
            'inet',
            PREFIX,
            lossChain('down', 'input', [
              [nsEnd, impairment.down?.lossPercent],
              [delays.down, impairment.down?.lossPercent],
            ]),
          );
          await setDelay(impairment);
          current = impairment;
        },
      };
      return namespace;
    },
    async close() {
      resources.close();
    },
  };
}
