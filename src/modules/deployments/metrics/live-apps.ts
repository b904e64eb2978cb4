/** One app serving on this replica, as metrics sampling sees it. */
export interface LiveApp {
  deploymentId: string;
  /** The sandbox's bubblewrap process on the host; the app's processes are its descendants. */
  pid: number;
  /** The running version's files on the host. */
  appDir: string;
  ownerId: string;
  /** The host uid its processes run as, or null (the service's own: it does not run as root). */
  uid: number | null;
  /** Its memory cgroup's limit, or null (no cgroup here). */
  memoryLimitBytes: number | null;
}

/** Who knows which apps run here: DeploymentRunner (bound in DeploymentsModule), a fake in tests. */
export interface LiveAppSource {
  liveApps(): LiveApp[];
}

/** The Nest token of the LiveAppSource. */
export const LIVE_APPS = Symbol('LIVE_APPS');
