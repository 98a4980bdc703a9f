/**
 * The pool worker (node-worker-threads-pool StaticPool task file): one message
 * in, one FileResult out. analyzeFile never throws, so a bad file cannot take
 * the worker (and the batch) down.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeFile, type FileTask } from './file';

parentPort?.on('message', async (task: FileTask) => {
  const result = await analyzeFile(task);
  const transfer = result.envelope ? [result.envelope.min.buffer, result.envelope.max.buffer] : [];
  parentPort!.postMessage(result, transfer as ArrayBuffer[]);
});
