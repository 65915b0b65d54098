/** What `cftunnel --version` and the start-up log report. */

/** The cloudflared release whose wire behaviour cftunnel follows (the version it reports to the edge, §1.4). */
export { DEFAULT_CLIENT_VERSION as COMPATIBLE_CLOUDFLARED_VERSION } from '../connection/identity.js';
/** `version` of the cftunnel package.json. */
export { packageVersion as cliVersion } from '../util/package-version.js';
