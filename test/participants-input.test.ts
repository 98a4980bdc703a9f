import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FRAME_SAMPLES } from '../src/realtime/frame';
import { ParticipantInput } from '../src/participants/input';

const READY = 1;
const NOT_YET = 0;
const MISSING = -1;
const BEFORE_FIRST = 2;
const pcm = (n: number) => new Int16Array(n).fill(1000);

test('a participant\'s first audio that starts inside a frame is waited for, not taken for a hole that passed it', () => {
  const input = ParticipantInput.create();
  assert.is(input.frameState(10), BEFORE_FIRST, 'no audio yet: nothing to wait for');
  // The page's first period lands in the middle of frame 10 and fills only part of it.
  const start = 10 * FRAME_SAMPLES + 300;
  input.write(start, pcm(128));
  assert.is(input.frameState(10), NOT_YET, 'the rest of frame 10 is still on its way');
  input.write(start + 128, pcm(FRAME_SAMPLES));
  assert.is(input.frameState(10), READY, 'zeros before the first sample, then the audio');
  assert.is(input.frameState(9), BEFORE_FIRST);
});

test('a hole inside a run makes the frames it passed missing for good, at once', () => {
  const input = ParticipantInput.create();
  input.write(0, pcm(2 * FRAME_SAMPLES));
  assert.is(input.frameState(1), READY);
  // The page skipped ahead: frame 2's start is never written.
  input.write(2 * FRAME_SAMPLES + 100, pcm(FRAME_SAMPLES));
  assert.is(input.frameState(2), MISSING, 'nothing more will come for frame 2');
  assert.is(input.holeSamples, 100);
});

test.run();
