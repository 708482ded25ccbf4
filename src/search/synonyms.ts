/**
 * The words on-call engineers use for the same thing, folded onto one term so "ssh hangs", "ssh is
 * stuck" and "ssh times out" meet the same symptom. Each group is `[canonical, ...variants]`;
 * variants are written as people type them and may be several words ("can't reach"). They are run
 * through the same stemmer as the text at start-up (`normalise.ts`), so inflections ("stalls",
 * "stalled", "stalling") need no entry of their own.
 *
 * The canonical term may itself be several words: "path mtu" becomes "pmtu mtu" so it still meets a
 * plain "mtu". Keep groups tight: folding two words that mean different things in this domain
 * ("drop" the counter and "drop" the verb are fine; "host" and "hypervisor" are not) costs more
 * precision than it buys recall.
 */
export const SYNONYM_GROUPS: readonly (readonly string[])[] = [
	// what a session or transfer does when big packets vanish
	[
		'hang',
		'hung',
		'stuck',
		'freeze',
		'froze',
		'frozen',
		'stall',
		'wedge',
		'timeout',
		'times out',
		'timed out',
		'time out',
		'timing out',
		'never finishes',
		'never completes',
		'blocks forever',
	],
	// traffic that goes missing
	['loss', 'lose', 'lost', 'losing', 'drop', 'discard', 'packetloss'],
	// a peer that does not answer
	[
		'unreachable',
		'cannot reach',
		'can not reach',
		'could not reach',
		'unable to reach',
		'not reachable',
		'no route',
		'cannot ping',
		'can not ping',
		'unable to ping',
		'could not ping',
		'no reply',
		'no replies',
		'no response',
		'no answer',
		'not responding',
		'not respond',
		'not answer',
		'not answering',
		'unresponsive',
	],
	// something that does not work
	[
		'fail',
		'failure',
		'error',
		'broken',
		'broke',
		'break',
		'not working',
		'not work',
		'stopped working',
		'stop working',
		'does not work',
		'failing',
	],
	// something that does work
	['work', 'fine', 'ok', 'okay', 'succeed', 'success', 'successful'],
	// a process or a host that goes away
	['die', 'dies', 'died', 'dead', 'crash', 'abort', 'exit', 'quit', 'goes down', 'went down', 'killed'],
	[
		'start',
		'startup',
		'boot',
		'launch',
		'come up',
		'comes up',
		'bring up',
		'initialise',
		'initialize',
		'init',
		'initialization',
		'initialisation',
	],
	['slow', 'sluggish', 'crawl', 'laggy', 'degraded', 'poor performance', 'bad performance'],
	['bandwidth', 'throughput', 'speed', 'capacity'],
	// a share said in words: "every 4th ping", "1 in 4 connections", "half the traffic"
	['25pct', 'every 4th', 'every fourth', 'one in four', '1 in 4', '1 out of 4', 'one out of four', 'a quarter', 'quarter of'],
	['50pct', 'every other', 'every 2nd', 'every second', 'one in two', '1 in 2', '1 out of 2', 'half', 'half of'],
	['33pct', 'every 3rd', 'every third', 'one in three', '1 in 3', '1 out of 3', 'a third'],
	[
		'imbalance',
		'imbalanced',
		'unbalanced',
		'uneven',
		'unevenly',
		'skewed',
		'lopsided',
		'not balancing',
		'not balanced',
		'not balance',
		'not evenly',
		'not spread',
		'hot spot',
		'hotspot',
		'polarization',
		'polarisation',
	],
	['balance', 'balancing', 'load sharing', 'load share', 'load balancing', 'load spreading', 'spread'],
	['large', 'big', 'bigger', 'jumbo', 'full size', 'full sized', 'huge', 'oversized', 'max size', 'maximum size'],
	['small', 'tiny', 'little'],
	['packet', 'frame', 'datagram', 'pkt', 'pkts'],
	['hugepage', 'huge page', 'huge pages', 'hugetlb', 'hugetlbfs', 'hugepagesz'],
	['memory', 'ram', 'mem'],
	['vm', 'guest', 'instance', 'virtual machine', 'domu', 'kvm guest'],
	['container', 'pod', 'docker'],
	['kubernetes', 'k8s', 'kube'],
	['nic', 'adapter', 'dongle', 'network card', 'ethernet card', 'network adapter'],
	['arp', 'neighbour', 'neighbor', 'neigh', 'neighbour table', 'neighbor table', 'arp table', 'arp cache', 'arp entry'],
	['gateway', 'gw', 'default route'],
	['bond', 'bonding', 'port channel', 'portchannel', 'etherchannel', 'link aggregation', 'lag', 'teaming', 'mlag'],
	['overlay', 'tunnel', 'encapsulation', 'encap', 'tunnelled', 'tunneled'],
	['pmtu mtu', 'path mtu', 'pmtud', 'pmtu'],
	['netmask', 'subnet mask', 'prefix length', 'wrong mask'],
	['nexthop', 'next hop', 'next-hop'],
	['hairpin', 'same interface', 'back out', 'in and out', 'one armed', 'router on a stick'],
	['http', 'https', 'web', 'curl', 'wget', 'download', 'upload'],
	['switch', 'nexus', 'n9k', 'n7k', 'tor', 'top of rack'],
	['reboot', 'reboots', 'restart the vm', 'power cycle', 'hard reset'],
	['ecmp', 'multipath', 'equal cost', 'equal cost multipath', 'multi path'],
	['firewall', 'fw'],
];

/**
 * Removed before ranking: words that appear in every phrasing and tell the runbooks apart by
 * nothing but length. Kept on purpose: "no" (in "No buffer space available"), "cannot" (in
 * "Cannot init memory"), "only", "same", "other" (they carry the contrast in "works on the same
 * host").
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
	(
		'a an the is are was were be been being am it its this that these those there then than ' +
		'to of in on at by for from with as into onto and or but so if when while ' +
		'i we you my our me us they them he she his her their your ' +
		'do does did doing done have has had can could will would should shall may might must ' +
		'just also very too some any what which who whom how why where here ' +
		'get gets got getting see seeing seen saw still even again please help issue problem ' +
		'happens happen happening seems seem like anyway really now not'
	).split(' '),
);

/**
 * Contractions as typed (the apostrophe already normalised to '), each to the words it stands for;
 * any other "-n't" becomes "<word> not". Typed in a hurry the apostrophe goes missing, so the
 * common ones are listed without it too ("wont" is rarely the noun at 3 a.m.).
 */
export const CONTRACTIONS: Readonly<Record<string, string>> = {
	"can't": 'cannot',
	"won't": 'will not',
	"ain't": 'is not',
	"shan't": 'shall not',
	cant: 'cannot',
	wont: 'will not',
	dont: 'do not',
	doesnt: 'does not',
	didnt: 'did not',
	isnt: 'is not',
	arent: 'are not',
	wasnt: 'was not',
	werent: 'were not',
	couldnt: 'could not',
	wouldnt: 'would not',
	shouldnt: 'should not',
	hasnt: 'has not',
	havent: 'have not',
};
