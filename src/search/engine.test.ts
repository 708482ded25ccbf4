import { describe, expect, it } from 'vitest';
import { bodyText, buildIndex, highlightSpans, loadIndex, search, sourceHash, type SearchSource } from './engine.ts';

/**
 * A small corpus in which every tier can be told apart: each runbook owns one strong signal in one
 * field, and shares weaker words with the others.
 */
const CORPUS: SearchSource[] = [
	{
		slug: 'dpdk-remap',
		title: 'DPDK will not start',
		summary: 'Too many hugepages for vm.max_map_count. Raise the limit.',
		symptoms: ['ovs-vswitchd exits right after start', 'DPDK app panics at start on a big host'],
		signatures: ['EAL: Failed to remap 2 MB pages', 'Cannot init memory'],
		body: 'import Check from \'../x.astro\';\n\n## What you see\n\nThe daemon restarts in a loop.\n\n<Check id="kernel.max-map-count" />\n',
	},
	{
		slug: 'neigh-failed',
		title: 'One address does not answer',
		summary: 'A stray VLAN device on a bond slave eats the replies.',
		symptoms: ['ARP stays INCOMPLETE for one address', 'can ping .252 but not .253'],
		signatures: ['FAILED', 'INCOMPLETE'],
		body: 'The neighbour table shows the entry as failed. Start by listing the VLAN devices.',
	},
	{
		slug: 'trailer',
		title: 'VMs ping each other but SSH hangs',
		summary: 'A USB NIC adds 2 bytes to every frame; full-size frames are dropped.',
		symptoms: ['ssh hangs after the login banner', 'scp stalls at 0%'],
		signatures: ['dropped over-mtu packet', 'dropped over-mtu packet: 1502 > 1500'],
		body: 'Open vSwitch drops the frame. The hypervisor uses a USB dongle with the ax88179 driver.',
	},
	{
		slug: 'overlay',
		title: 'Large packets vanish across a tunnel',
		summary: 'VXLAN adds 50 bytes; set the overlay MTU to 1450.',
		symptoms: ['ssh hangs between VMs on different hosts'],
		signatures: ['dropped over-mtu packet', 'ping: local error: message too long, mtu=1450'],
		body: 'The kernel logs dropped over-mtu packet lines on the hypervisor. Geneve and GRE add their own headers.',
	},
];

const index = loadIndex(buildIndex(CORPUS));
const slugs = (text: string) => search(index, text).map((h) => h.slug);

describe('buildIndex', () => {
	it('is deterministic and independent of the order of the sources', () => {
		const a = JSON.stringify(buildIndex(CORPUS));
		expect(JSON.stringify(buildIndex([...CORPUS].reverse()))).toBe(a);
	});

	it('survives a JSON round trip with the same ranking (the site loads it from a static file)', () => {
		const fromJson = loadIndex(JSON.stringify(buildIndex(CORPUS)));
		for (const q of ['ping works but ssh hangs', 'EAL: Failed to remap 2 MB pages', 'arp incomplete', 'vxlan mtu']) {
			expect(search(fromJson, q)).toEqual(search(index, q));
		}
	});

	it('changes its source hash when a symptom changes', () => {
		const edited = CORPUS.map((s, i) => (i === 0 ? { ...s, symptoms: [...s.symptoms, 'one more'] } : s));
		expect(sourceHash(edited)).not.toBe(sourceHash(CORPUS));
	});

	it('keeps only the numbers and names with digits the phrases use', () => {
		const { keep } = buildIndex(CORPUS);
		expect(keep).toContain('2mb');
		expect(keep).toContain('1502');
		expect(keep).toContain('0pct');
		expect(keep).not.toContain('ax88179');
	});

	it('does not index component tags or import lines of the body', () => {
		expect(bodyText(CORPUS[0]!.body)).not.toMatch(/import|Check|kernel\.max-map-count/);
		expect(bodyText('See [Raise the limit](#raise-the-limit) now')).toBe('See [Raise the limit  now');
	});

	it('refuses an index of another format', () => {
		expect(() => loadIndex({ ...buildIndex(CORPUS), format: 0 })).toThrow(/format 0/);
	});
});

describe('search', () => {
	it('a pasted error line with timestamp, host and pid hits its signature, tier 1', () => {
		const [first] = search(index, 'May 12 10:01:02 compute07 ovs-vswitchd[31337]: EAL: Failed to remap 2 MB pages');
		expect(first?.slug).toBe('dpdk-remap');
		expect(first?.field).toBe('signature');
		expect(first?.matched).toBe('EAL: Failed to remap 2 MB pages');
		expect(first!.score).toBeGreaterThanOrEqual(1);
	});

	it('a signature typed in part (three words or more) still hits it', () => {
		expect(search(index, 'failed to remap 2MB')[0]?.matched).toBe('EAL: Failed to remap 2 MB pages');
	});

	it('a one-word signature inside a longer line is not enough for tier 1', () => {
		const hits = search(index, 'EAL: Failed to remap 2 MB pages');
		expect(hits[0]?.slug).toBe('dpdk-remap');
		expect(hits.find((h) => h.slug === 'neigh-failed')?.score ?? 0).toBeLessThan(1);
	});

	it('a one-word signature alone is recognised', () => {
		const [first] = search(index, 'INCOMPLETE');
		expect(first?.slug).toBe('neigh-failed');
		expect(first!.score).toBeGreaterThanOrEqual(1);
	});

	it('the number in a signature decides between runbooks that share its words', () => {
		expect(slugs('kernel: vnet0: dropped over-mtu packet: 1502 > 1500')[0]).toBe('trailer');
		expect(slugs('kernel: vnet0: dropped over-mtu packet: 1550 > 1500')[0]).toBe('overlay');
	});

	it('symptoms outrank the body', () => {
		// "start" is a symptom word of dpdk-remap and a body word of neigh-failed
		expect(slugs('exits at start')[0]).toBe('dpdk-remap');
	});

	it('tolerates synonyms, word order, inflection and typos', () => {
		expect(slugs('scp stuck at 0%')[0]).toBe('trailer');
		expect(slugs('banner login after ssh freezing')[0]).toBe('trailer');
		expect(slugs('arp incomplet for one adress')[0]).toBe('neigh-failed');
		expect(slugs("can't ping .253")[0]).toBe('neigh-failed');
	});

	it('says which phrase matched and where to highlight it', () => {
		const [first] = search(index, 'scp stalls at 0%');
		expect(first?.matched).toBe('scp stalls at 0%');
		expect(first?.highlight).toEqual([[0, 16]]);
	});

	it('noise alone finds nothing', () => {
		expect(search(index, '')).toEqual([]);
		expect(search(index, '2016-05-12T10:01:02Z 10.0.0.1 [1234]')).toEqual([]);
		expect(search(index, 'zzzqqqxx')).toEqual([]);
	});

	it('lists best first and leaves out stray matches', () => {
		const hits = search(index, 'ssh hangs');
		expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
		expect(hits.map((h) => h.slug)).not.toContain('dpdk-remap');
	});
});

describe('highlightSpans', () => {
	it('merges across stop words and punctuation', () => {
		const text = 'EAL: Failed to remap 2 MB pages';
		expect(highlightSpans(text, new Set(['eal', 'fail', 'remap', '2mb', 'pag']), false)).toEqual([[0, text.length]]);
		expect(highlightSpans('ping works but http times out', new Set(['ping', 'hang']))).toEqual([
			[0, 4],
			[20, 29],
		]);
	});
});
