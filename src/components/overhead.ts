/**
 * Overlay overhead arithmetic for the calculator on the overlay-mtu runbook: pure, no DOM, so the
 * page renders the default answer at build time, the `<overhead-calculator>` element recomputes it
 * in the browser, and the unit test checks both against the same figures.
 *
 * Every byte count is DOMAIN.md section 7 (neutron-lib constants, checked on our VXLAN lab):
 * VXLAN = outer IP + UDP 8 + VXLAN 8 + inner Ethernet 14 (50 on IPv4, 70 on IPv6); L3 GRE = outer
 * IP + GRE 4 (+4 key); gretap = outer IP + GRE 4 + inner Ethernet 14 (+4 key); Geneve = outer IP +
 * 30 minimum (UDP 8 + Geneve 8 + inner Ethernet 14) + options; an inner 802.1Q tag adds 4 wherever
 * an inner Ethernet header is carried. Ping sizes: IPv4 20 + ICMP 8 = 28, IPv6 40 + ICMPv6 8 = 48.
 */

export const ENCAPSULATIONS = ['vxlan', 'geneve', 'gretap', 'gretap-key', 'gre', 'gre-key', 'none'] as const;
export type Encapsulation = (typeof ENCAPSULATIONS)[number];

export const ENCAPSULATION_LABELS: Record<Encapsulation, string> = {
	vxlan: 'VXLAN',
	geneve: 'Geneve',
	gretap: 'gretap (L2 GRE)',
	'gretap-key': 'gretap with key',
	gre: 'GRE (L3)',
	'gre-key': 'GRE (L3) with key',
	none: 'none (no tunnel)',
};

/** The device name the `ip link set` line uses when the reader gives none. */
export const DEFAULT_DEVICE: Record<Encapsulation, string> = {
	vxlan: 'vxlan0',
	geneve: 'geneve0',
	gretap: 'gretap1',
	'gretap-key': 'gretap1',
	gre: 'gre1',
	'gre-key': 'gre1',
	none: 'eth0',
};

/** The bounds `net.path-mtu` accepts for `expectMtu`, so a result can be passed to it as is. */
export const UNDERLAY_MTU_MIN = 576;
export const UNDERLAY_MTU_MAX = 9216;
/** Geneve's Opt Len field counts 4-byte words in 6 bits (RFC 8926 section 3.4): 0 to 252 bytes. */
export const GENEVE_OPTIONS_MAX = 252;
/** IPv6 needs at least this link MTU (RFC 8200 section 5); below it the IPv6 ping line is left out. */
export const IPV6_MIN_MTU = 1280;

export const IPV4_PING_OVERHEAD = 28;
export const IPV6_PING_OVERHEAD = 48;

export interface OverheadInput {
	/** MTU of the physical (underlay) interface the tunnel leaves by. */
	underlayMtu: number;
	encap: Encapsulation;
	/** IP version of the outer (tunnel) header. */
	outer: 4 | 6;
	/** The inner Ethernet frames carry an 802.1Q tag. */
	innerVlan: boolean;
	/** Geneve option bytes (multiple of 4); 0 gives the minimum overhead. */
	geneveOptions?: number;
}

export interface OverheadPart {
	bytes: number;
	label: string;
}

export interface OverheadResult {
	ok: true;
	input: Required<OverheadInput>;
	/** Header bytes added, in the order they sit on the wire. */
	parts: OverheadPart[];
	overhead: number;
	/** The largest MTU the overlay device and the guests behind it may have. */
	innerMtu: number;
	/** `ping -M do -s` size that fills `innerMtu` exactly with an IPv4 packet. */
	pingSize4: number;
	/** The same for IPv6, `null` when `innerMtu` is below the IPv6 minimum. */
	pingSize6: number | null;
	/** Caveats for this input, in plain sentences. */
	notes: string[];
}

export interface OverheadInvalid {
	ok: false;
	/** What is wrong with the input, as a sentence. */
	reason: string;
}

const OUTER_IP: Record<4 | 6, number> = { 4: 20, 6: 40 };

function hasInnerEthernet(encap: Encapsulation): boolean {
	return encap === 'vxlan' || encap === 'geneve' || encap === 'gretap' || encap === 'gretap-key';
}

/** The overhead of one encapsulation over one underlay, or why the input cannot be computed. */
export function computeOverhead(input: OverheadInput): OverheadResult | OverheadInvalid {
	const { underlayMtu, encap, outer, innerVlan } = input;
	const geneveOptions = input.geneveOptions ?? 0;
	if (!Number.isInteger(underlayMtu) || underlayMtu < UNDERLAY_MTU_MIN || underlayMtu > UNDERLAY_MTU_MAX) {
		return { ok: false, reason: `Underlay MTU must be a whole number from ${UNDERLAY_MTU_MIN} to ${UNDERLAY_MTU_MAX}.` };
	}
	if (!(ENCAPSULATIONS as readonly string[]).includes(encap)) {
		return { ok: false, reason: `Unknown encapsulation "${String(encap)}".` };
	}
	if (outer !== 4 && outer !== 6) return { ok: false, reason: 'The outer IP version must be 4 or 6.' };
	if (
		encap === 'geneve' &&
		(!Number.isInteger(geneveOptions) || geneveOptions < 0 || geneveOptions > GENEVE_OPTIONS_MAX || geneveOptions % 4 !== 0)
	) {
		return { ok: false, reason: `Geneve options must be a multiple of 4 from 0 to ${GENEVE_OPTIONS_MAX} bytes.` };
	}

	const parts: OverheadPart[] = [];
	const notes: string[] = [];
	const ipLabel = `outer IPv${outer}`;
	switch (encap) {
		case 'vxlan':
			parts.push({ bytes: OUTER_IP[outer], label: ipLabel }, { bytes: 8, label: 'UDP' }, { bytes: 8, label: 'VXLAN' });
			break;
		case 'geneve':
			parts.push({ bytes: OUTER_IP[outer], label: ipLabel }, { bytes: 8, label: 'UDP' }, { bytes: 8, label: 'Geneve' });
			if (geneveOptions > 0) parts.push({ bytes: geneveOptions, label: 'Geneve options' });
			notes.push(
				geneveOptions === 0
					? 'Geneve with no options: the minimum (30 + outer IP). Options add their length; OVN is commonly said to use 58 in all on IPv4 (8 option bytes), which is unverified here.'
					: `Assumes ${geneveOptions} bytes of Geneve options on every packet; check what your controller sends.`,
			);
			break;
		case 'gretap':
		case 'gretap-key':
		case 'gre':
		case 'gre-key':
			parts.push({ bytes: OUTER_IP[outer], label: ipLabel }, { bytes: 4, label: 'GRE' });
			if (encap.endsWith('-key')) parts.push({ bytes: 4, label: 'GRE key' });
			notes.push('GRE checksum and sequence numbers (csum, seq) add 4 bytes each.');
			break;
		case 'none':
			notes.push('No tunnel: the inner MTU is the underlay MTU.');
			break;
	}
	if (hasInnerEthernet(encap)) {
		parts.push({ bytes: 14, label: 'inner Ethernet' });
		if (innerVlan) parts.push({ bytes: 4, label: 'inner 802.1Q tag' });
	} else if (innerVlan) {
		notes.push(
			encap === 'none'
				? 'A VLAN tag on the link sits outside the IP MTU: it makes the frame 4 bytes longer, not the MTU smaller.'
				: 'L3 GRE carries IP packets, not Ethernet frames: an inner VLAN tag is not carried and costs nothing.',
		);
	}

	const overhead = parts.reduce((sum, p) => sum + p.bytes, 0);
	const innerMtu = underlayMtu - overhead;
	const pingSize6 = innerMtu >= IPV6_MIN_MTU ? innerMtu - IPV6_PING_OVERHEAD : null;
	if (pingSize6 === null)
		notes.push(`An inner MTU of ${innerMtu} is below ${IPV6_MIN_MTU}, the IPv6 minimum: IPv6 cannot run inside this overlay.`);
	return {
		ok: true,
		input: { underlayMtu, encap, outer, innerVlan, geneveOptions: encap === 'geneve' ? geneveOptions : 0 },
		parts,
		overhead,
		innerMtu,
		pingSize4: innerMtu - IPV4_PING_OVERHEAD,
		pingSize6,
		notes,
	};
}

/** `20 outer IPv4 + 8 UDP + 8 VXLAN + 14 inner Ethernet = 50`; `0 (no tunnel)` for none. */
export function breakdown(result: OverheadResult): string {
	if (result.parts.length === 0) return '0 (no tunnel)';
	return `${result.parts.map((p) => `${p.bytes} ${p.label}`).join(' + ')} = ${result.overhead}`;
}

/** One sentence for the live region: `VXLAN over IPv4 on a 1500 underlay: overhead 50, inner MTU 1450, ping -s 1422.` */
export function summaryLine(result: OverheadResult): string {
	const { encap, outer, underlayMtu } = result.input;
	const what = encap === 'none' ? 'No tunnel' : `${ENCAPSULATION_LABELS[encap]} over IPv${outer}`;
	return `${what} on a ${underlayMtu} underlay: overhead ${result.overhead}, inner MTU ${result.innerMtu}, ping -s ${result.pingSize4}.`;
}

export interface OverheadCommands {
	/** Sets the overlay device's MTU. */
	setMtu: string;
	/** The family the peer is in: 6 when it is written with colons. */
	family: 4 | 6;
	/** A DF ping that fills the inner MTU exactly: must pass. Absent when IPv6 cannot run inside. */
	ping?: string;
	/** One byte more: must fail at once, locally, when the sender's MTU is right. */
	pingOver?: string;
}

/** The commands to set and test the result; `peer` and `device` are shown, never run. */
export function commandsFor(result: OverheadResult, peer: string, device?: string): OverheadCommands {
	const dev = device && device.length > 0 ? device : DEFAULT_DEVICE[result.input.encap];
	const setMtu = `ip link set dev ${dev} mtu ${result.innerMtu}`;
	if (!peer.includes(':')) {
		return {
			setMtu,
			family: 4,
			ping: `ping -M do -c 3 -s ${result.pingSize4} ${peer}`,
			pingOver: `ping -M do -c 3 -s ${result.pingSize4 + 1} ${peer}`,
		};
	}
	if (result.pingSize6 === null) return { setMtu, family: 6 };
	return {
		setMtu,
		family: 6,
		ping: `ping -6 -M do -c 3 -s ${result.pingSize6} ${peer}`,
		pingOver: `ping -6 -M do -c 3 -s ${result.pingSize6 + 1} ${peer}`,
	};
}

/** Interface names the kernel accepts (the same rule as `InterfaceName` in src/core/check.ts). */
export function isInterfaceName(s: string): boolean {
	return /^[A-Za-z0-9_.:@-]{1,15}$/.test(s);
}

/** An address or host name to show in a command: letters, digits, dots, colons, dashes. */
export function isPeer(s: string): boolean {
	return /^[A-Za-z0-9][A-Za-z0-9.:_-]{0,252}$/.test(s);
}

function isIpLiteral(s: string): boolean {
	return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9A-Fa-f:.]+$/.test(s));
}

/**
 * The copyable block: set the MTU, prove it with a DF ping that fits and one a byte over, and the
 * same test as the `net.path-mtu` check (only when the numbers are within what the check accepts).
 */
export function commandScript(result: OverheadResult, peer: string, device?: string): string {
	const c = commandsFor(result, peer, device);
	const mtu = result.innerMtu;
	const lines = [
		result.input.encap === 'none'
			? '# The interface MTU, on both ends'
			: '# Overlay device on every tunnel endpoint; guest NICs at most this',
		c.setMtu,
	];
	if (c.ping && c.pingOver) {
		lines.push(
			'',
			'# From a guest to a peer across the overlay: must get replies',
			c.ping,
			'# One byte more: must fail at once (message too long), not time out',
			c.pingOver,
		);
	} else {
		lines.push('', `# No IPv6 ping: an MTU of ${mtu} is below ${IPV6_MIN_MTU}, the IPv6 minimum`);
	}
	if (isIpLiteral(peer) && mtu >= UNDERLAY_MTU_MIN && mtu <= UNDERLAY_MTU_MAX) {
		lines.push('', '# The same test as a check', `runbook check net.path-mtu --host HOST --param target=${peer} --param expectMtu=${mtu}`);
	}
	return lines.join('\n');
}

/** The rows of the "common cases" table the page shows without JavaScript. */
export const COMMON_CASES: OverheadInput[] = [
	{ underlayMtu: 1500, encap: 'vxlan', outer: 4, innerVlan: false },
	{ underlayMtu: 1500, encap: 'vxlan', outer: 4, innerVlan: true },
	{ underlayMtu: 1500, encap: 'vxlan', outer: 6, innerVlan: false },
	{ underlayMtu: 1500, encap: 'geneve', outer: 4, innerVlan: false },
	{ underlayMtu: 1500, encap: 'geneve', outer: 6, innerVlan: false },
	{ underlayMtu: 1500, encap: 'gre', outer: 4, innerVlan: false },
	{ underlayMtu: 1500, encap: 'gre-key', outer: 4, innerVlan: false },
	{ underlayMtu: 1500, encap: 'gretap', outer: 4, innerVlan: false },
	{ underlayMtu: 1500, encap: 'gretap-key', outer: 4, innerVlan: false },
	{ underlayMtu: 9000, encap: 'vxlan', outer: 4, innerVlan: false },
	{ underlayMtu: 9000, encap: 'vxlan', outer: 6, innerVlan: false },
	{ underlayMtu: 9000, encap: 'geneve', outer: 4, innerVlan: false },
];

export const DEFAULT_INPUT: OverheadInput = { underlayMtu: 1500, encap: 'vxlan', outer: 4, innerVlan: false, geneveOptions: 0 };
