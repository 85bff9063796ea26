// The words for a task that names an infra kind this server has not turned on: the server refuses a launch
// with them, and editors show them at resources.infra as the task file is typed.

export function infraNotEnabledMessage(infra: string, enabledKinds: readonly string[], reason: string | undefined, hint: string | undefined): string {
  return `infra '${infra}' is not enabled on this server (enabled: ${enabledKinds.join(', ')}): ${[reason, hint].filter(Boolean).join('; ')}; run \`skydeck check\` to see why`;
}
