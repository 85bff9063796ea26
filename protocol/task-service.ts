// The top-level sections SkyPilot's serving, pools and config use: `service`, `pool`, `config`.
// SkyDeck accepts them so existing files parse; `launch` says it does not use them.
import * as z from 'zod';

const poolShape = {
  workers: z.number().int().min(0).optional(),
  min_workers: z.number().int().min(0).optional(),
  max_workers: z.number().int().min(0).optional(),
  queue_length_threshold: z.number().int().min(1).optional(),
  upscale_delay_seconds: z.number().min(0).optional(),
  downscale_delay_seconds: z.number().min(0).optional(),
};

export const poolSchema = z.lazy(() => z.strictObject(poolShape).describe('A pool of workers for managed jobs (SkyPilot pools).'));

export const serviceSchema = z.lazy(() => z
  .strictObject({
    readiness_probe: z
      .union([
        z.string(),
        z.strictObject({
          path: z.string(),
          initial_delay_seconds: z.number().optional(),
          timeout_seconds: z.number().optional(),
          post_data: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
          headers: z.record(z.string(), z.string()).optional(),
        }),
      ])
      .optional(),
    pool: z.strictObject(poolShape).optional(),
    replica_policy: z
      .strictObject({
        min_replicas: z.number().int().min(0),
        max_replicas: z.number().int().min(0).optional(),
        num_overprovision: z.number().int().min(0).optional(),
        target_qps_per_replica: z.union([z.number().min(0), z.record(z.string().regex(/^[A-Z0-9]+(:[0-9]+)?$/), z.number().min(0))]).optional(),
        dynamic_ondemand_fallback: z.boolean().optional(),
        base_ondemand_fallback_replicas: z.number().int().min(0).optional(),
        spot_placer: z.string().optional(),
        upscale_delay_seconds: z.number().optional(),
        downscale_delay_seconds: z.number().optional(),
      })
      .optional(),
    ports: z.number().int().optional(),
    replicas: z.number().int().optional(),
    workers: z.number().int().optional(),
    load_balancing_policy: z.string().optional(),
    tls: z.strictObject({ keyfile: z.string(), certfile: z.string() }).optional(),
  })
  .describe('A SkyServe service: readiness_probe, replica_policy, replicas, ports, load_balancing_policy, tls.'));

/** The config keys SkyPilot lets a task override (its OVERRIDEABLE_CONFIG_KEYS_IN_TASK), values as its config allows. */
const CONFIG_OVERRIDES: Record<string, readonly string[]> = {
  docker: ['run_options'],
  nvidia_gpus: ['disable_ecc'],
  ssh: ['custom_metadata', 'pod_config', 'provision_timeout'],
  kubernetes: ['custom_metadata', 'pod_config', 'provision_timeout', 'dws', 'kueue', 'remote_identity', 'enable_docker'],
  azure: ['remote_identity', 'vpc_name'],
  gcp: ['vpc_name', 'subnet_names', 'managed_instance_group', 'enable_gvnic', 'enable_gpu_direct', 'placement_policy'],
  vast: ['datacenter_only', 'create_instance_kwargs'],
  slurm: ['sbatch_options', 'cpu_partition'],
};

export const configSchema = z.lazy(() => z
  .strictObject({
    ...Object.fromEntries(Object.entries(CONFIG_OVERRIDES).map(([section, keys]) => [section, z.strictObject(Object.fromEntries(keys.map((k) => [k, z.unknown().optional()]))).optional()])),
    active_workspace: z.string().optional(),
  })
  .describe(`SkyPilot config overrides for this task (${Object.keys(CONFIG_OVERRIDES).join(', ')}, active_workspace).`));
