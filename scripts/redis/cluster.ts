import { z } from 'zod';

/** Hash slots of a Redis Cluster: 0 to 16383. */
export const SLOT_COUNT = 16_384;

/** A range of hash slots, both ends included (`[0, 5460]`). */
export const SlotRangeSchema = z.tuple([
  z
    .number()
    .int()
    .min(0)
    .max(SLOT_COUNT - 1),
  z
    .number()
    .int()
    .min(0)
    .max(SLOT_COUNT - 1),
]);
export type SlotRange = z.infer<typeof SlotRangeSchema>;

/** One line of `CLUSTER NODES` (the same on Redis 6.0, 7.x, 8.x and Valkey). */
export const ClusterNodeSchema = z.object({
  /** The node ID (40 hex characters): what `nodes.conf` and every other node call it. */
  id: z.string().regex(/^[0-9a-f]{40}$/),
  /** The address it announces to clients (no password, no scheme). */
  host: z.string(),
  /** Its client port. */
  port: z.number().int().min(0).max(65_535),
  /** `primary` (flag `master`) or `replica` (flag `slave`). */
  role: z.enum(['primary', 'replica']),
  /** A replica's primary, by node ID; absent for a primary. */
  primaryId: z.string().optional(),
  /** Every flag as the node reports it (`myself`, `master`, `fail?`, `fail`, `handshake`, `noaddr`…). */
  flags: z.array(z.string()),
  /** `connected` or `disconnected`: the cluster bus link of the node that answered to this one. */
  link: z.string(),
  /** Slot ranges it serves (a primary's; empty for a replica). Slots being migrated are left out. */
  slots: z.array(SlotRangeSchema),
});
export type ClusterNode = z.infer<typeof ClusterNodeSchema>;

/** Parses the text of `CLUSTER NODES`; throws on a line that is not one of its lines. */
export function parseClusterNodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text
    .split('\n')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [id, address, flagText, primary, , , , link, ...slotWords] = line.split(' ');
    // `host:port@busport[,hostname]`; an IPv6 host keeps its colons.
    const hostPort = /^(.*):(\d+)(@\d+)?(,.*)?$/.exec(address ?? '');
    if (!id || !hostPort || flagText === undefined || link === undefined) throw new Error(`Not a CLUSTER NODES line: ${line.slice(0, 80)}`);
    const flags = flagText.split(',');
    const slots: SlotRange[] = [];
    for (const word of slotWords) {
      if (word.startsWith('[')) continue;
      const [from, to = from] = word.split('-').map(Number);
      slots.push([from as number, to as number]);
    }
    nodes.push(
      ClusterNodeSchema.parse({
        id,
        host: hostPort[1],
        port: Number(hostPort[2]),
        role: flags.includes('slave') ? 'replica' : 'primary',
        ...(primary && primary !== '-' ? { primaryId: primary } : {}),
        flags,
        link,
        slots,
      }),
    );
  }
  return nodes;
}

/** Slot ranges merged and sorted (`[[0,1],[2,5]]` → `[[0,5]]`). */
export function mergeRanges(ranges: readonly SlotRange[]): SlotRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: SlotRange[] = [];
  for (const [from, to] of sorted) {
    const last = merged.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** `0-5460,5461-10922` style text of ranges, for messages. */
export function formatRanges(ranges: readonly SlotRange[]): string {
  return ranges.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(',');
}

/** How many slots the ranges hold. */
export function slotCount(ranges: readonly SlotRange[]): number {
  return ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
}

/** Slots no range covers, as ranges. */
export function uncoveredSlots(ranges: readonly SlotRange[]): SlotRange[] {
  const gaps: SlotRange[] = [];
  let next = 0;
  for (const [from, to] of mergeRanges(ranges)) {
    if (from > next) gaps.push([next, from - 1]);
    next = Math.max(next, to + 1);
  }
  if (next < SLOT_COUNT) gaps.push([next, SLOT_COUNT - 1]);
  return gaps;
}

/** Equal sets of slots. */
export function sameSlots(a: readonly SlotRange[], b: readonly SlotRange[]): boolean {
  return JSON.stringify(mergeRanges(a)) === JSON.stringify(mergeRanges(b));
}

/** `count` contiguous ranges splitting the 16384 slots as evenly as `redis-cli --cluster create` does. */
export function evenRanges(count: number): SlotRange[] {
  const ranges: SlotRange[] = [];
  const per = SLOT_COUNT / count;
  let first = 0;
  for (let i = 0; i < count; i++) {
    const last = i === count - 1 ? SLOT_COUNT - 1 : Math.round((i + 1) * per) - 1;
    ranges.push([first, last]);
    first = last + 1;
  }
  return ranges;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16-CCITT (XModem), the hash Redis Cluster uses. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/** The hash slot of a key (`CLUSTER KEYSLOT`): CRC16 of the key, or of its `{hash tag}` when it has a non-empty one, mod 16384. */
export function keySlot(key: Buffer | string): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(bytes) % SLOT_COUNT;
}
