import middy from '@middy/core';
import type { Collector } from './commons/collector.ts';
import { type CommitResult, type CommitTask, commitHour } from './commons/publish.ts';
import { fromLambdaEnvironment } from './commons/runtime.ts';

export const commitHandler = (collector: () => Collector) =>
  middy<CommitTask, CommitResult>().handler(async (task) => commitHour(collector(), task));

export const handler = commitHandler(fromLambdaEnvironment);
