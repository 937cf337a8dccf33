// Imported first by main.ts, so that it runs before the other modules are evaluated (see
// platform/young-generation.ts and platform/tier-up.ts); main releases the hold once the member serves.
import { tierUpSooner } from '../platform/tier-up.js';
import { holdYoungGeneration } from '../platform/young-generation.js';

holdYoungGeneration();
tierUpSooner();
