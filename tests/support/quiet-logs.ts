/**
 * Test setup: the shared logger writes nothing unless MLSDM_TEST_LOGS is set, so unit tests that
 * exercise logging code (security events, warnings) keep the runner's output readable. Tests that
 * read log output install their own transport and turn `silent` off themselves; spies on the
 * logger's methods see every call either way.
 */
import { logger } from "../../src/telemetry/logger.js";

logger.silent = process.env.MLSDM_TEST_LOGS === undefined;
