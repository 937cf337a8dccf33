// Where the package's proto/ directory is (loaded at run time by protobufjs and proto-loader).
import { fileURLToPath } from 'node:url';

/** The proto/ directory, with a trailing '/'. */
export const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));
