import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FrameReader, measureFrame, CapnpFrameError } from '../../src/capnp/framing.js';
import { fixturePath } from '../helpers/fixtures.js';

const control = readFileSync(fixturePath('vectors/quic/control/control-c2e.stream.bin'));
const first = readFileSync(fixturePath('vectors/quic/control/control-c2e.0.bin'));
const second = readFileSync(fixturePath('vectors/quic/control/control-c2e.1.bin'));

test('measureFrame measures a recorded message and asks for more on a short header', () => {
  assert.equal(measureFrame(first, 0, 1 << 20), first.length);
  assert.equal(measureFrame(first.subarray(0, 3), 0, 1 << 20), -1);
});

test('FrameReader splits a recorded control stream on every chunk boundary', () => {
  for (const step of [1, 3, 7, 8, 64, control.length]) {
    const reader = new FrameReader(1 << 20);
    const frames: Buffer[] = [];
    for (let i = 0; i < control.length; i += step) frames.push(...reader.push(control.subarray(i, i + step)));
    assert.ok(frames.length >= 2, `step ${step}`);
    assert.deepEqual(frames[0], first);
    assert.deepEqual(frames[1], second);
  }
});

test('FrameReader rejects a frame over the limit as soon as the header says so', () => {
  const reader = new FrameReader(1024);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0, 0);
  header.writeUInt32LE(1000, 4); // 8000 bytes
  assert.throws(() => reader.push(header), CapnpFrameError);
});

test('FrameReader rejects absurd segment counts', () => {
  const reader = new FrameReader(1 << 20);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0xffffffff, 0);
  assert.throws(() => reader.push(header), CapnpFrameError);
});
