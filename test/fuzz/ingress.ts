/**
 * Fuzz target for ingress matching (docs/protocol.md §10.1, §10.3): rule hostnames, `path` patterns and the
 * visitor's Host and path are all outside the connector's control (a remote configuration, any visitor). Building
 * rules either succeeds or fails with the ingress error types; matching never throws, returns the first rule whose
 * host and path match (the catch-all otherwise), and takes time linear in the path: pathological patterns (nested
 * quantifiers, alternations of overlapping branches) meet long hostile paths, which a backtracking engine cannot
 * finish (the runners' per-input timeout and the test-file timeout catch a hang).
 */
import fc from 'fast-check';
import { IngressConfigError, UnsupportedServiceError } from '../../src/ingress/errors.js';
import { IngressRules, stripPort, type IngressRule, type IngressRuleConfig } from '../../src/ingress/rules.js';

/** Patterns with nested or overlapping quantifiers: exponential for a backtracking engine. */
const PATHOLOGICAL_PATTERNS = [
  '^/(\\w+/?)*$',
  '(a+)+$',
  '^(a|aa)+$',
  '^/(a|a?)+b',
  '(.*a){12}',
  '^(\\d+)*x$',
  '^/(x+x+)+y$',
];

/** Ordinary RE2 patterns, including Go syntax (flags, named groups, classes, Unicode). */
const ORDINARY_PATTERNS = [
  '^/api/',
  'v[0-9]+/users',
  '(?i)^/admin',
  '^/(?P<v>v1)/',
  '\\.(css|js)$',
  '^/[[:alpha:]]+$',
  '\\pL',
  '^/\\Qa.b\\E',
  '(?s).',
  '^$',
  '',
];

/** Not RE2: must be refused with IngressConfigError. */
const INVALID_PATTERNS = ['(', '(a)\\1', '^/(?=x)', 'a**', 'a{1001}', '[z-a]', '\\p{Nope}', '(?<n'];

const HOSTNAMES = [
  'app.example.com',
  '*.example.com',
  '*.wild.test',
  'café.example.org',
  '::1',
  'a.test',
  '*',
  '',
  'x.*.test',
  'h:80',
  '[::1]:8080',
  '*.',
];

// Weighted so that most rule sets validate and matching runs; the rest exercises the refusals.
const pattern: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...PATHOLOGICAL_PATTERNS, ...ORDINARY_PATTERNS), weight: 6 },
  { arbitrary: fc.constantFrom(...INVALID_PATTERNS), weight: 1 },
  { arbitrary: fc.string({ maxLength: 24 }), weight: 1 },
  { arbitrary: fc.stringMatching(/^[()|*+?.\\^$[\]{}aw\d/,-]{0,16}$/), weight: 2 },
);

const hostname: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTNAMES), weight: 4 },
  { arbitrary: fc.domain(), weight: 2 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
);

const service: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom('http://127.0.0.1:1', 'http_status:404', 'hello_world', 'tcp://127.0.0.1:22'),
    weight: 9,
  },
  { arbitrary: fc.constantFrom('http://127.0.0.1:1/p', 'nonsense', 'socks-proxy'), weight: 1 },
);

const rule: fc.Arbitrary<IngressRuleConfig> = fc.record(
  { hostname, path: pattern, service },
  { requiredKeys: ['hostname', 'service'] },
);

/** Paths a visitor may send: random text, and long runs that make backtracking engines explode. */
const path: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 64 }).map((s) => `/${s}`),
  fc
    .tuple(
      fc.constantFrom('a', 'aa', 'a/', '1', 'x'),
      fc.integer({ min: 1, max: 2000 }),
      fc.constantFrom('!', '', 'b', 'y', '/'),
    )
    .map(([unit, n, tail]) => `/${unit.repeat(n)}${tail}`),
);

const host: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'app.example.com',
    'x.example.com',
    'a.b.wild.test',
    'xn--caf-dma.example.org',
    '[::1]:8080',
    'a.test:443',
    'unknown.test',
    '',
  ),
  fc.domain(),
  fc.string({ maxLength: 20 }),
);

/** The §10.1 host test, independently: exact, `*.` suffix, or the rule's punycode form; catch-all hostnames match all. */
function hostMatches(r: IngressRule, bare: string): boolean {
  const test = (p: string): boolean => p === bare || (p.startsWith('*.') && bare.endsWith(p.slice(1)));
  return (
    r.hostname === '' ||
    r.hostname === '*' ||
    test(r.hostname) ||
    (r.punycodeHostname !== undefined && test(r.punycodeHostname))
  );
}

function build(configs: IngressRuleConfig[]): IngressRules | undefined {
  try {
    return IngressRules.fromConfig(configs);
  } catch (err) {
    if (err instanceof IngressConfigError || err instanceof UnsupportedServiceError) return undefined;
    throw new Error(`IngressRules.fromConfig threw an untyped error: ${String(err)}`, { cause: err });
  }
}

/** The property: typed refusal or a rule set whose match() is first-match over host and path. */
export const ingressMatchingProperty = (): fc.IRawProperty<[IngressRuleConfig[], Array<[string, string]>], boolean> =>
  fc.property(
    // The last rule is usually a catch-all, so that most rule sets validate and matching is exercised.
    fc
      .tuple(
        fc.array(rule, { maxLength: 5 }),
        fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
      )
      .map(([rules, closeWithCatchAll]) => (closeWithCatchAll ? [...rules, { service: 'http_status:503' }] : rules)),
    fc.array(fc.tuple(host, path), { minLength: 1, maxLength: 4 }),
    (configs, requests) => {
      const rules = build(configs);
      if (rules === undefined) return true;
      for (const [h, p] of requests) {
        const got = rules.match(h, p);
        const bare = stripPort(h);
        const first = rules.rules.findIndex((r) => hostMatches(r, bare) && (r.path === undefined || r.path.test(p)));
        const want = first < 0 ? rules.rules.length - 1 : first;
        if (got !== rules.rules[want])
          throw new Error(
            `match(${JSON.stringify(h)}, ${JSON.stringify(p.slice(0, 80))}) gave rule ${got.index}, want ${want}`,
          );
      }
      return true;
    },
  );
