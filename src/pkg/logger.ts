// The logger type every room takes (a pino child logger: `logger.child({ room })`).
export type { Logger } from 'pino';
