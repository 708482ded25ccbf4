import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedChecks, parseObjectLiteral } from './embedded-checks.ts';
import { projectRoot } from './paths.ts';
import { parseRunbook } from './runbooks-node.ts';

const RUNBOOKS = join(projectRoot, 'content', 'runbooks');
const runbook = (slug: string) => parseRunbook(slug, readFileSync(join(RUNBOOKS, `${slug}.mdx`), 'utf8'));

/** What each real runbook embeds, written out by hand from the pages. */
const PAGES: Record<string, { id: string; params: Record<string, unknown> }[]> = {
	'bond-vlan-stray-subinterface': [
		{ id: 'net.neigh-unresolved', params: {} },
		{ id: 'net.vlan-on-bond-slave', params: {} },
		{ id: 'bond.status', params: { bond: 'bond0' } },
	],
	'ecmp-imbalance': [
		{ id: 'net.ecmp-routes', params: {} },
		{ id: 'net.link-balance', params: { ifaces: ['eth0', 'eth1'] } },
	],
	'hugepage-map-count': [{ id: 'kernel.max-map-count', params: {} }],
	'icmp-redirect-copp': [
		{ id: 'net.icmp-redirects', params: { intervalMs: 10000 } },
		{ id: 'net.redirect-route', params: { dst: '198.51.100.20', src: '192.0.2.100', iif: 'eth0' } },
		{ id: 'nxos.ip-redirects', params: {} },
		{ id: 'nxos.copp-drops', params: {} },
	],
	'overlay-mtu': [
		{ id: 'net.path-mtu', params: { target: '192.0.2.10' } },
		{ id: 'net.mtu-chain', params: {} },
	],
	'ufo-raw-socket-virtio': [
		{ id: 'nic.tx-stalled', params: { iface: 'eth0', intervalMs: 2000 } },
		{ id: 'kernel.ufo-raw-socket', params: { iface: 'eth0' } },
	],
	'usb-nic-trailer': [
		{ id: 'net.path-mtu', params: { target: '192.0.2.10' } },
		{ id: 'nic.usb-attached', params: { iface: 'eth0' } },
		{ id: 'capture.frame-trailer', params: { iface: 'eth0', seconds: 30 } },
		{ id: 'net.mtu-chain', params: {} },
	],
};

describe('embeddedChecks on every real runbook', () => {
	const slugs = readdirSync(RUNBOOKS)
		.filter((f) => f.endsWith('.mdx'))
		.map((f) => f.slice(0, -'.mdx'.length));

	it('every runbook is in the table above', () => {
		expect(slugs.toSorted()).toEqual(Object.keys(PAGES).toSorted());
	});

	it.each(slugs)('%s: the tags in page order, with their params', (slug) => {
		expect(embeddedChecks(runbook(slug).body)).toEqual(PAGES[slug]);
	});

	it.each(slugs)('%s: the same ids, in the same order, as its frontmatter `checks`', (slug) => {
		const rb = runbook(slug);
		expect(embeddedChecks(rb.body).map((c) => c.id)).toEqual(rb.checks);
	});
});

describe('embeddedChecks', () => {
	it('no params -> {}; attributes across lines; double-quoted strings, booleans, negative and decimal numbers', () => {
		const body = [
			'Some prose.',
			'',
			'<Check id="a.one" />',
			'',
			'<Check',
			'\tid="b.two"',
			'\tparams={{',
			'\t\tname: "x y",',
			"\t\t'quoted-key': true,",
			'\t\toff: false,',
			'\t\tn: -1.5e2,',
			'\t\tlist: [1, "two", false,],',
			'\t}}',
			'/>',
		].join('\n');
		expect(embeddedChecks(body)).toEqual([
			{ id: 'a.one', params: {} },
			{ id: 'b.two', params: { name: 'x y', 'quoted-key': true, off: false, n: -150, list: [1, 'two', false] } },
		]);
	});

	it('escapes in strings, and a ">" or "}" inside a string does not end the tag', () => {
		expect(embeddedChecks(`<Check id="a.b" params={{ s: 'it\\'s > 2 }}', t: "a\\"b\\\\" }} />`)).toEqual([
			{ id: 'a.b', params: { s: "it's > 2 }}", t: 'a"b\\' } },
		]);
	});

	it('tags in fenced code blocks and inline code are text, not checks', () => {
		const body = [
			'Write `<Check id="x.inline" />` in the page.',
			'',
			'```mdx',
			'<Check id="x.fenced" />',
			'```',
			'',
			'~~~',
			'<Check id="x.tilde" />',
			'~~~',
			'',
			'<Check id="x.real" />',
		].join('\n');
		expect(embeddedChecks(body).map((c) => c.id)).toEqual(['x.real']);
	});

	it('other components are not Check', () => {
		expect(embeddedChecks('<CheckList id="a.b" />\n<Checkbox />\n<Aside>x</Aside>')).toEqual([]);
	});

	it.each([
		['a variable', '<Check id="a.b" params={{ target: peer }} />', /target: peer.*expected a string, a number, true or false/],
		[
			'a bad value on a line of its own',
			'<Check\n\tid="a.b"\n\tparams={{\n\t\tn: peer,\n\t}}\n/>',
			/expected a string, a number, true or false at offset \d+ \("peer,\\n/,
		],
		['an expression', '<Check id="a.b" params={{ n: 1 + 1 }} />', /expected "," or "}"/],
		['a nested object', '<Check id="a.b" params={{ o: { x: 1 } }} />', /expected a string, a number, true or false/],
		['a nested array', '<Check id="a.b" params={{ xs: [[\'a\']] }} />', /an array inside an array/],
		['a template literal', '<Check id="a.b" params={{ s: `x` }} />', /expected a string/],
		['a comment', '<Check id="a.b" params={{ /* c */ n: 1 }} />', /expected a property name/],
		['a duplicate key', '<Check id="a.b" params={{ n: 1, n: 2 }} />', /"n" given twice/],
		['a spread', '<Check id="a.b" params={{ ...defaults }} />', /expected a property name/],
		['an unknown escape', '<Check id="a.b" params={{ s: \'a\\x41\' }} />', /an escape other than/],
		['params not a double brace', '<Check id="a.b" params={defaults} />', /expected "\{"/],
		['an unknown attribute', '<Check id="a.b" host="x" />', /unexpected "host="x""/],
		['no id', '<Check params={{ n: 1 }} />', /no id=/],
		['an id that is not a check id', '<Check id="MaxMapCount" />', /"MaxMapCount" is not a check id/],
		['an id given as an expression', "<Check id={'a.b'} />", /unexpected "id=\{'a\.b'\}"/],
		['not self-closing', '<Check id="a.b"></Check>', /must close itself/],
		['never closed', '<Check id="a.b" params={{ n: 1 }}', /not closed/],
	])('%s -> throws naming the tag', (_, body, why) => {
		let message = '';
		try {
			embeddedChecks(`Before.\n\n${body}\n\nAfter.\n`);
		} catch (e) {
			message = (e as Error).message;
		}
		expect(message).toMatch(/^<Check/);
		expect(message).toMatch(why);
		expect(message).not.toContain('\n');
	});
});

describe('parseObjectLiteral', () => {
	it('an empty object, and text after the object is refused', () => {
		expect(parseObjectLiteral(' { } ')).toEqual({});
		expect(() => parseObjectLiteral('{} x')).toThrow(/text after the object/);
	});

	it('numbers as JavaScript writes them; not hex, not a leading zero, not a trailing dot', () => {
		expect(parseObjectLiteral('{ a: 0, b: 10000, c: 0.5, d: 1E3 }')).toEqual({ a: 0, b: 10000, c: 0.5, d: 1000 });
		for (const n of ['0x10', '010', '1.', '.5', 'NaN', 'Infinity', '1_000']) expect(() => parseObjectLiteral(`{ a: ${n} }`), n).toThrow();
	});

	it('a line break inside a string is refused', () => {
		expect(() => parseObjectLiteral("{ a: 'x\ny' }")).toThrow(/line break inside a string/);
	});
});
