// The kubernetes source's config: which cluster to read and what to collect from it.
import { z } from 'zod';
import { durationSchema } from '../../../common/config-schema.js';

/** A Kubernetes namespace name (RFC 1123 label). */
const namespaceSchema = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
  message: 'expected a namespace name (lowercase letters, digits and "-", at most 63 characters)',
}).max(63);

/**
 * One `kind: kubernetes` source. Unknown keys are rejected. Defaults (applied by the schema):
 * `events: true`, `gitops: true`. Without `kubeconfig` or `inCluster`, the source reads the
 * cluster it runs in when `KUBERNETES_SERVICE_HOST` is set (a pod with a service account), else
 * `~/.kube/config`. `namespaces` unset means every namespace.
 */
export const kubernetesConfigSchema = z.strictObject({
  kind: z.literal('kubernetes'),
  name: z.string().min(1),
  interval: durationSchema.optional(),
  timeout: durationSchema.optional(),
  /** Path to a kubeconfig file. Excludes `inCluster: true`. */
  kubeconfig: z.string().min(1).optional(),
  /** Use the pod's service account (`/var/run/secrets/kubernetes.io/serviceaccount`). */
  inCluster: z.boolean().optional(),
  /** A context of the kubeconfig; its current-context when unset. */
  context: z.string().min(1).optional(),
  /** Only these namespaces (namespaced kinds, events and gitops objects); every namespace when unset. */
  namespaces: z.array(namespaceSchema).min(1).optional(),
  /** Watch warning events and report them as events. */
  events: z.boolean().default(true),
  /** Read Argo CD Applications, Fleet BundleDeployments and system-upgrade-controller Plans when installed. */
  gitops: z.boolean().default(true),
}).superRefine((c, ctx) => {
  if (c.kubeconfig !== undefined && c.inCluster === true) {
    ctx.addIssue({ code: 'custom', path: ['inCluster'], message: 'expected either kubeconfig or inCluster: true, found both' });
  }
  if (c.context !== undefined && c.inCluster === true) {
    ctx.addIssue({ code: 'custom', path: ['context'], message: 'expected no context with inCluster: true (a service account has no contexts)' });
  }
  if (c.namespaces !== undefined && new Set(c.namespaces).size !== c.namespaces.length) {
    ctx.addIssue({ code: 'custom', path: ['namespaces'], message: 'expected each namespace once, found a repeat' });
  }
});

/** A validated kubernetes source config (defaults applied). */
export type KubernetesConfig = z.infer<typeof kubernetesConfigSchema>;
