import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianFigures, type Figure } from '../../bench/harness/report.js';

function run(value: number, baseline: number): Figure {
  return {
    scenario: 'versus',
    leg: 'c=32',
    protocol: 'http2',
    metric: 'p99',
    unit: 'ms',
    value,
    baselines: { cloudflared: baseline },
    // A same-run target: at most this run's baseline.
    target: { op: '<=', value: baseline },
  };
}

test('medians judge the median value against the median of the runs’ same-run targets, not the first run’s', () => {
  // The first run's baseline (18.8) would call a median of 18.6 met; the runs' targets' median (18.1) does not.
  const [median] = medianFigures([[run(18.5, 18.8)], [run(19.4, 16.6)], [run(18.6, 18.1)]]);
  assert.ok(median);
  assert.equal(median.value, 18.6);
  assert.equal(median.baselines.cloudflared, 18.1);
  assert.deepEqual(median.target, { op: '<=', value: 18.1 });
  assert.deepEqual(median.runs, [18.5, 19.4, 18.6]);
});
