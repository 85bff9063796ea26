// The bodies of the jobs.* operations and the GET /api/jobs query, as zod schemas (protocol/jobs.ts has
// the records and results; it stays free of zod so that views showing jobs do not load it).
import * as z from 'zod';
import { taskSchema } from './task';

const jobId = z.number().int().min(1);

/** `skydeck jobs launch`: one task, or a pipeline (the documents of a multi-document file, in order). */
export const jobsLaunchBody = z.lazy(() => z.strictObject({
  tasks: z.array(taskSchema).min(1).max(32),
  /** The job's name (`-n`, else the pipeline header's or the first task's). */
  name: z.string().min(1).max(128).optional(),
}));

/** `skydeck jobs queue`: the caller's jobs, or everyone's (admins) with allUsers. */
export const jobsQueueBody = z.lazy(() => z.strictObject({
  allUsers: z.boolean().optional(),
  skipFinished: z.boolean().optional(),
  /** Most recent first, at most this many (default 50; `-a` asks for all). */
  limit: z.number().int().min(1).optional(),
}));

/** `skydeck jobs cancel ID... | -n NAME | -a [-u]`. */
export const jobsCancelBody = z.lazy(() => z
  .strictObject({ jobIds: z.array(jobId).max(1000).optional(), name: z.string().min(1).max(128).optional(), all: z.boolean().optional(), allUsers: z.boolean().optional() })
  .refine((b) => [(b.jobIds?.length ?? 0) > 0, b.name !== undefined, b.all === true].filter(Boolean).length === 1, 'give jobIds, name or all: true (one of them)')
  .refine((b) => !b.allUsers || b.all === true, 'allUsers goes with all: true'));

/** `skydeck jobs logs ID [--no-follow] [--controller]`: the job's output across recoveries, or what the controller did. */
export const jobsLogsBody = z.lazy(() => z.strictObject({
  /** Absent: the caller's most recent job. */
  jobId: jobId.optional(),
  follow: z.boolean().optional(),
  controller: z.boolean().optional(),
  tail: z.number().int().min(0).optional(),
}));

/** GET /api/jobs query: `all_users=1` for everyone's (admins). */
export const jobListQuery = z.lazy(() => z.object({ all_users: z.string().optional().transform((v) => v === '1' || v === 'true') }));

