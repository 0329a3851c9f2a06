// Jest's sequencer, with shards balanced by expected run time rather than
// equal counts over a hash of the path (scripts/test.mjs runs the suite as
// shards side by side, each with a /dev/shm of its own): files are dealt out
// largest first, each to the shard with the least so far. File size stands
// for run time, as in Jest's own ordering without timings; timings from
// Jest's cache would do better but each shard computes the split on its own,
// and only the files themselves are sure to look the same to every shard.
import { statSync } from 'node:fs';
import Sequencer from '@jest/test-sequencer';

const BaseSequencer = Sequencer.default ?? Sequencer;

export default class BalancedSequencer extends BaseSequencer {
  shard(tests, { shardIndex, shardCount }) {
    const size = (test) => statSync(test.path).size;
    const loads = Array.from({ length: shardCount }, () => ({ total: 0, tests: [] }));
    const bySize = [...tests].sort((a, b) => size(b) - size(a) || (a.path < b.path ? -1 : 1));
    for (const test of bySize) {
      const lightest = loads.reduce((min, l) => (l.total < min.total ? l : min));
      lightest.total += size(test);
      lightest.tests.push(test);
    }
    return loads[shardIndex - 1].tests;
  }
}
