import middy from '@middy/core';
import { type Collector, type CommitResult, type CommitTask, commitHour } from './commons/collector.ts';
import { fromLambdaEnvironment } from './commons/runtime.ts';

export const commitHandler = (collector: () => Collector) =>
  middy<CommitTask, CommitResult>().handler(async (task) => commitHour(collector(), task));

export const handler = commitHandler(fromLambdaEnvironment);
