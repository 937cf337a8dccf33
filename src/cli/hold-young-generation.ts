// Imported first by main.ts, so that it runs before the other modules are evaluated (see
// platform/young-generation.ts); main releases the hold, and asks V8 to optimize sooner
// (platform/tier-up.ts), once the member serves.
import { holdYoungGeneration } from '../platform/young-generation.js';

holdYoungGeneration();
