import type { WorkerJob } from '../runtime/worker-context';
import { runTrendingWorker } from './trending/trending-worker';

/** Worker sides of every job, by name (loaded inside worker threads). */
export const workerJobs: Record<string, WorkerJob> = {
  trending: runTrendingWorker as WorkerJob,
};
