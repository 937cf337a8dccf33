// Imported first by main.ts, so that it runs before the other modules are evaluated (see
// platform/young-generation.ts); main releases the hold once the member serves.
import { holdYoungGeneration } from '../platform/young-generation.js';

holdYoungGeneration();
