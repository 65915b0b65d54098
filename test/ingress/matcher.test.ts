/**
 * Ingress matching (docs/protocol.md §10.1) and validation (§10.3), table-driven: every example of the spec and every
 * validation error with cloudflared's wording.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngressConfigError, UnsupportedServiceError } from '../../src/ingress/errors.js';
import { parseOriginRequest } from '../../src/ingress/origin-request.js';
import {
  ERR_BAD_WILDCARD,
  ERR_HOSTNAME_CONTAINS_PORT,
  ERR_LAST_RULE_NOT_CATCH_ALL,
  IngressRules,
  stripPort,
  type IngressRuleConfig,
} from '../../src/ingress/rules.js';

const CATCH_ALL: IngressRuleConfig = { service: 'http_status:404' };

function rules(
  ...list: Array<Omit<IngressRuleConfig, 'originRequest'> & { originRequest?: Record<string, unknown> }>
): IngressRules {
  return IngressRules.fromConfig(
    list.map((r) => ({ ...r, originRequest: parseOriginRequest(r.originRequest, 'originRequest', 'json') })),
  );
}

const ROUTING = rules(
  { hostname: 'app.example.com', service: 'http://127.0.0.1:1' },
  { hostname: '*.example.com', path: '^/static/', service: 'http://127.0.0.1:2' },
  { hostname: '*.wild.test', service: 'http://127.0.0.1:3' },
  { hostname: 'café.example.org', service: 'http://127.0.0.1:4' },
  { hostname: 'api.test', path: 'v[0-9]+/users', service: 'http://127.0.0.1:5' },
  { hostname: 'api.test', service: 'http://127.0.0.1:6' },
  { hostname: '::1', service: 'http://127.0.0.1:7' },
  { hostname: 'i.test', path: '(?i)^/admin', service: 'http://127.0.0.1:8' },
  { hostname: 'ns.test', path: '^/(?P<v>v1)/', service: 'http://127.0.0.1:9' },
  CATCH_ALL,
);

// [request host, path, expected rule index, why]
const MATCH_TABLE: Array<[string, string, number, string]> = [
  ['app.example.com', '/', 0, 'exact hostname'],
  ['app.example.com:8443', '/', 0, 'port stripped before matching'],
  ['APP.example.com', '/', 9, 'exact match is case-sensitive'],
  ['cdn.example.com', '/static/a.css', 1, 'wildcard + path'],
  ['a.b.example.com', '/static/x', 1, 'wildcard matches several labels'],
  ['example.com', '/static/x', 9, 'wildcard does not match the bare domain'],
  ['cdn.example.com', '/img/static/a.css', 9, 'path regex anchored by ^ in the pattern'],
  ['app.example.com', '/static/x', 0, 'first match wins'],
  ['x.wild.test', '/', 2, 'wildcard without path'],
  ['wild.test', '/', 9, 'bare domain is not a subdomain'],
  ['xn--caf-dma.example.org', '/', 3, 'punycode form of a Unicode rule hostname'],
  ['api.test', '/api/v2/users', 4, 'unanchored regex finds a match anywhere'],
  ['api.test', '/users', 5, 'path filter not matching falls to the next rule'],
  ['[::1]:8080', '/', 6, 'bracketed IPv6 with port'],
  ['i.test', '/ADMIN/x', 7, 'RE2 (?i) flag group'],
  ['ns.test', '/v1/x', 8, 'RE2 named group (?P<name>…)'],
  ['unknown.test', '/', 9, 'nothing matched: the last rule'],
];

for (const [host, path, index, why] of MATCH_TABLE) {
  test(`match ${host}${path} → rule #${index + 1} (${why})`, () => {
    assert.equal(ROUTING.match(host, path).index, index);
  });
}

test('hostname "*" and an empty hostname are both catch-alls', () => {
  for (const hostname of ['*', '']) {
    const r = rules({ hostname: 'a.test', service: 'http_status:201' }, { hostname, service: 'http_status:202' });
    assert.equal(r.match('zzz.test', '/').service.canonical, 'http_status:202');
  }
});

test('no rules at all gives the single http_status:503 catch-all', () => {
  const r = IngressRules.fromConfig([]);
  assert.equal(r.rules.length, 1);
  assert.deepEqual(r.match('any.test', '/').service, { kind: 'status', status: 503, canonical: 'http_status:503' });
});

test('stripPort follows Go net.SplitHostPort', () => {
  assert.equal(stripPort('a.test:80'), 'a.test');
  assert.equal(stripPort('a.test'), 'a.test');
  assert.equal(stripPort('[::1]:443'), '::1');
  assert.equal(stripPort('::1'), '::1');
});

// [rules, exact message or RegExp, error class]
const INVALID: Array<
  [
    string,
    IngressRuleConfig[] | Array<Record<string, unknown>>,
    string | RegExp,
    typeof IngressConfigError | typeof UnsupportedServiceError,
  ]
> = [
  [
    'hostname with a port',
    [{ hostname: 'example.com:8080', service: 'http://h:1' }, CATCH_ALL],
    ERR_HOSTNAME_CONTAINS_PORT,
    IngressConfigError,
  ],
  [
    'hostname with an empty port',
    [{ hostname: 'example.com:', service: 'http://h:1' }, CATCH_ALL],
    ERR_HOSTNAME_CONTAINS_PORT,
    IngressConfigError,
  ],
  [
    'wildcard in the middle',
    [{ hostname: 'a.*.example.com', service: 'http://h:1' }, CATCH_ALL],
    ERR_BAD_WILDCARD,
    IngressConfigError,
  ],
  [
    'wildcard at the end',
    [{ hostname: 'example.*', service: 'http://h:1' }, CATCH_ALL],
    ERR_BAD_WILDCARD,
    IngressConfigError,
  ],
  [
    'two wildcards',
    [{ hostname: '*.*.example.com', service: 'http://h:1' }, CATCH_ALL],
    ERR_BAD_WILDCARD,
    IngressConfigError,
  ],
  [
    'last rule has a hostname',
    [{ hostname: 'only.test', service: 'http://127.0.0.1:8000' }],
    ERR_LAST_RULE_NOT_CATCH_ALL,
    IngressConfigError,
  ],
  ['last rule has a path', [{ path: '^/x', service: 'http://h:1' }], ERR_LAST_RULE_NOT_CATCH_ALL, IngressConfigError],
  [
    'catch-all before the last rule (empty hostname)',
    [{ service: 'http://h:1' }, CATCH_ALL],
    "Rule #1 is matching the hostname '', but this will match every hostname, meaning the rules which follow it will never be triggered.",
    IngressConfigError,
  ],
  [
    'catch-all before the last rule (*)',
    [{ hostname: 'a.test', service: 'http://h:1' }, { hostname: '*', service: 'http://h:2' }, CATCH_ALL],
    "Rule #2 is matching the hostname '*', but this will match every hostname, meaning the rules which follow it will never be triggered.",
    IngressConfigError,
  ],
  [
    'invalid regex',
    [{ hostname: 'a.test', path: '(', service: 'http://h:1' }, CATCH_ALL],
    /^Rule #1 has an invalid regex/,
    IngressConfigError,
  ],
  [
    'RE2 has no lookahead',
    [{ hostname: 'a.test', path: '^/(?=x)', service: 'http://h:1' }, CATCH_ALL],
    /^Rule #1 has an invalid regex/,
    IngressConfigError,
  ],
  [
    'RE2 has no backreferences',
    [{ hostname: 'a.test', path: '(a)\\1', service: 'http://h:1' }, CATCH_ALL],
    /^Rule #1 has an invalid regex/,
    IngressConfigError,
  ],
  [
    'http_status not a number',
    [{ service: 'http_status:abc' }],
    'invalid HTTP status code: strconv.Atoi: parsing "abc": invalid syntax',
    IngressConfigError,
  ],
  ['http_status below 100', [{ service: 'http_status:99' }], 'invalid HTTP status code: 99', IngressConfigError],
  ['http_status above 999', [{ service: 'http_status:1000' }], 'invalid HTTP status code: 1000', IngressConfigError],
  [
    'URL without scheme',
    [{ service: 'localhost:8080' }],
    'localhost:8080 is an invalid address, please make sure it has a scheme and a hostname',
    IngressConfigError,
  ],
  [
    'URL without host',
    [{ service: 'http://' }],
    'http:// is an invalid address, please make sure it has a scheme and a hostname',
    IngressConfigError,
  ],
  [
    'empty service',
    [{ service: '' }],
    ' is an invalid address, please make sure it has a scheme and a hostname',
    IngressConfigError,
  ],
  [
    'URL with a path',
    [{ service: 'http://localhost:8080/app' }],
    "http://localhost:8080/app is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path",
    IngressConfigError,
  ],
  [
    'URL with only a trailing slash',
    [{ service: 'https://localhost/' }],
    "https://localhost/ is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path",
    IngressConfigError,
  ],
  [
    'socks-proxy ipRule without prefix',
    [{ service: 'socks-proxy', originRequest: { ipRules: [{ ports: [80], allow: true }] } }],
    'unable to create ip rule for socks-proxy: no prefix provided',
    IngressConfigError,
  ],
  [
    'socks-proxy ipRule with a bad prefix',
    [{ service: 'socks-proxy', originRequest: { ipRules: [{ prefix: '10.0.0.0/33' }] } }],
    'unable to create ip rule for socks-proxy: unable to parse cidr: 10.0.0.0/33',
    IngressConfigError,
  ],
  [
    'proxyType socks is not implemented',
    [{ service: 'tcp://127.0.0.1:1', originRequest: { proxyType: 'socks' } }],
    'originRequest.proxyType "socks" is not supported by cftunnel',
    UnsupportedServiceError,
  ],
  [
    'socks-proxy is not implemented',
    [{ service: 'socks-proxy' }],
    'socks-proxy is not supported by cftunnel',
    UnsupportedServiceError,
  ],
  [
    'access audTag without teamName',
    [{ service: 'http://h:1', originRequest: { access: { required: true, audTag: ['aud1'] } } }],
    'access.TeamName cannot be blank when access.audTags are present',
    IngressConfigError,
  ],
];

for (const [name, list, message, cls] of INVALID) {
  test(`invalid: ${name}`, () => {
    assert.throws(
      () =>
        rules(
          ...(list as IngressRuleConfig[] as Array<
            Omit<IngressRuleConfig, 'originRequest'> & { originRequest?: Record<string, unknown> }
          >),
        ),
      (err: unknown) => {
        assert.ok(err instanceof cls, `${String(err)} is a ${cls.name}`);
        if (typeof message === 'string') assert.equal((err as Error).message, message);
        else assert.match((err as Error).message, message);
        return true;
      },
    );
  });
}

test('the first invalid rule is reported: service problems before hostname problems (cloudflared order)', () => {
  assert.throws(() => rules({ hostname: 'a:1', service: 'http_status:1' }, CATCH_ALL), {
    message: 'invalid HTTP status code: 1',
  });
});

test('service forms and their canonical strings (§10.2)', () => {
  const table: Array<[string, string, string]> = [
    ['http://localhost:8080', 'http', 'http://localhost:8080'],
    ['https://origin.test', 'http', 'https://origin.test'],
    ['ws://127.0.0.1:9', 'http', 'ws://127.0.0.1:9'],
    ['unix:/tmp/a.sock', 'unix', 'unix:/tmp/a.sock'],
    ['unix+tls:/tmp/a.sock', 'unix', 'unix+tls:/tmp/a.sock'],
    ['http_status:418', 'status', 'http_status:418'],
    ['hello_world', 'hello_world', 'hello_world'],
    ['hello-world', 'hello_world', 'hello_world'],
    ['bastion', 'bastion', 'bastion'],
    ['ssh://localhost', 'tcp_over_ws', 'ssh://localhost:22'],
    ['rdp://localhost', 'tcp_over_ws', 'rdp://localhost:3389'],
    ['smb://localhost', 'tcp_over_ws', 'smb://localhost:445'],
    ['tcp://localhost', 'tcp_over_ws', 'tcp://localhost:7864'],
    ['tcp://localhost:2222', 'tcp_over_ws', 'tcp://localhost:2222'],
  ];
  for (const [service, kind, canonical] of table) {
    const rule = rules({ service }).rules[0]!;
    assert.equal(rule.service.kind, kind, service);
    assert.equal(rule.service.canonical, canonical, service);
  }
  const ws = rules({ service: 'wss://h.test:8443' }).rules[0]!.service;
  assert.equal(ws.kind === 'http' && ws.url.origin, 'https://h.test:8443', 'wss is dialled as https');
});

test('originRequest.bastionMode turns any rule into a bastion', () => {
  const r = rules({ service: 'http://h:1', originRequest: { bastionMode: true } });
  assert.equal(r.rules[0]!.service.kind, 'bastion');
});
