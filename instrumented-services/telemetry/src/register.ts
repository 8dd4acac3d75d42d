// Loaded with `node --require @lookout/telemetry/register main.js`, before any application module, so that the
// instrumentations can patch http, express, pg, ioredis, amqplib, undici and winston as they are first required.
import { startTelemetry } from './sdk.js';

startTelemetry();
