// What `image_id: docker:IMAGE` names, and the private-registry login a task gives in its envs
// (SKYPILOT_DOCKER_USERNAME / _PASSWORD / _SERVER, as SkyPilot reads them).
import { fail } from '../../errors';

const DOCKER_PREFIX = 'docker:';

/**
 * A Docker image reference: `[registry[:port]/]path[:tag][@digest]`. Checked here because the name is
 * passed to the docker CLI through a shell on SSH hosts; the quoting would hold anyway, but a name with
 * spaces or quotes is a mistake worth naming at the key rather than at `docker pull`.
 */
const IMAGE_REFERENCE = /^([A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?\/)?[A-Za-z0-9][A-Za-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@[A-Za-z0-9]+:[0-9a-fA-F]{32,})?$/;

/** Whether an `image_id` asks for a container (the only kind of image the machines here can run). */
export function isContainerImage(imageId: string): boolean {
  return imageId.startsWith(DOCKER_PREFIX);
}

/** The image of `docker:IMAGE`, or why it names none (worded to follow `image_id docker:...: `). */
export function parseContainerImage(imageId: string): { image: string } | { problem: string } {
  const image = imageId.slice(DOCKER_PREFIX.length);
  if (!isContainerImage(imageId) || image === '') return { problem: 'expected docker:IMAGE, such as docker:ubuntu:22.04' };
  if (!IMAGE_REFERENCE.test(image)) return { problem: `${JSON.stringify(image)} is not a Docker image reference ([registry/]name[:tag][@digest])` };
  return { image };
}

/** Credentials for a private registry, used on each node before the image is pulled there. */
export interface RegistryLogin {
  username: string;
  password: string;
  server: string;
}

const LOGIN_ENVS = { username: 'SKYPILOT_DOCKER_USERNAME', password: 'SKYPILOT_DOCKER_PASSWORD', server: 'SKYPILOT_DOCKER_SERVER' } as const;

/**
 * The registry login a task's envs and secrets give, if any. Like SkyPilot, all three are needed;
 * some without the others is an error naming the missing ones, since a pull would fail obscurely.
 */
export function registryLogin(envs: Record<string, string | null | undefined>): RegistryLogin | undefined {
  const given = Object.entries(LOGIN_ENVS).filter(([, env]) => !!envs[env]);
  if (given.length === 0) return undefined;
  const missing = Object.values(LOGIN_ENVS).filter((env) => !envs[env]);
  if (missing.length > 0) throw fail.task_invalid(`envs: a private registry login needs ${Object.values(LOGIN_ENVS).join(', ')}; missing ${missing.join(', ')}`);
  return { username: envs[LOGIN_ENVS.username]!, password: envs[LOGIN_ENVS.password]!, server: envs[LOGIN_ENVS.server]! };
}

/** The image as pulled: SkyPilot's shorthand `docker:name:tag` for a private image is prefixed with the login's server. */
export function qualifiedImage(image: string, login: RegistryLogin | undefined): string {
  if (!login) return image;
  const server = login.server.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return image.startsWith(`${server}/`) ? image : `${server}/${image}`;
}

/**
 * Why a task cannot run on an existing cluster because of its image, if so. As in SkyPilot the image is
 * the cluster's, fixed at launch: every later job runs in the same container, and a task without
 * image_id runs there too.
 */
export function imageMismatch(cluster: { name: string; resources: { imageId?: string } }, imageId: string | undefined): string | undefined {
  const has = cluster.resources.imageId;
  if (imageId === undefined || imageId === has) return undefined;
  const where = has ? `in a container of ${has}` : 'on its nodes, without a container';
  return `cluster ${cluster.name} runs ${where}; the task asks for image_id ${imageId}. Use another cluster name or down it first.`;
}
