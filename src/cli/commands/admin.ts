/**
 * `mlsdm admin status|emergency|reset|threshold|snapshot|restore|keys ...`: the AdminService
 * calls (they need an admin identity: `MLSDM_CLIENT_API_KEY` with the admin role, or mTLS).
 */
import { create } from "@bufbuild/protobuf";
import { DurationSchema, timestampDate } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError, type Command } from "commander";
import {
  ApiKeySchema,
  ApiKeyState,
  CreateApiKeyResponseSchema,
  GetStatusResponseSchema,
  ResetEmergencyResponseSchema,
  RevokeApiKeyResponseSchema,
  RotateApiKeyResponseSchema,
  ServingStatus,
  SetMoralThresholdResponseSchema,
  TriggerEmergencyShutdownResponseSchema,
  type ApiKey,
} from "../../gen/mlsdm/v1/admin_pb.js";
import { Role } from "../../gen/mlsdm/v1/options_pb.js";
import { contextOf, durationSeconds, numberIn, withClient, type RunState } from "../context.js";
import { enumName, flatten, keyValues, messageJson, print, printMessage, table } from "../output.js";
import { addSnapshotCommands } from "./snapshot.js";

const ROLES: Readonly<Record<string, Role>> = { read: Role.READ, write: Role.WRITE, admin: Role.ADMIN };

function roles(value: string, previous: Role[] = []): Role[] {
  const parsed = value.split(",").map((name) => {
    const role = ROLES[name.trim().toLowerCase()];
    if (role === undefined) throw new InvalidArgumentError(`expected read, write or admin, got "${name}"`);
    return role;
  });
  return [...previous, ...parsed];
}

const seconds = (value: number) => create(DurationSchema, { seconds: BigInt(value) });

function keyRow(key: ApiKey): string[] {
  return [
    key.keyId,
    key.owner,
    key.roles.map((role) => enumName(Role, role).toLowerCase()).join(","),
    enumName(ApiKeyState, key.state).toLowerCase(),
    key.expiresAt ? timestampDate(key.expiresAt).toISOString() : "never",
  ];
}

/** Adds `admin ...` to `program`. */
export function addAdminCommands(program: Command, run: RunState): void {
  const admin = program.command("admin").description("operate the server (admin role)");

  admin
    .command("status")
    .description("version, uptime, serving status, state, providers and configuration")
    .option("--config", "also list the server's (masked) configuration")
    .action(async (options: { config?: boolean }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const status = await client.admin.getStatus({});
        const json = messageJson(GetStatusResponseSchema, status) as Record<string, unknown>;
        print(context.output, json, () => {
          const { config: _config, ...rest } = json;
          const summary = {
            ...rest,
            servingStatus: enumName(ServingStatus, status.servingStatus),
          };
          const config = options.config ? `\n${keyValues(Object.entries(status.config).sort())}` : "";
          return keyValues(flatten(summary)) + config;
        });
      });
    });

  admin
    .command("emergency")
    .description("trigger the emergency shutdown")
    .argument("<reason...>", "why (audit log)")
    .action(async (reason: string[], _options: unknown, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const answer = await client.admin.triggerEmergencyShutdown({ reason: reason.join(" ") });
        printMessage(context.output, TriggerEmergencyShutdownResponseSchema, answer);
      });
    });

  admin
    .command("reset")
    .description("end the emergency shutdown")
    .argument("<reason...>", "why (audit log)")
    .action(async (reason: string[], _options: unknown, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const answer = await client.admin.resetEmergency({ reason: reason.join(" ") });
        printMessage(context.output, ResetEmergencyResponseSchema, answer);
      });
    });

  admin
    .command("threshold")
    .description("set the moral threshold (0.3 to 0.9)")
    .argument("<value>", "the new threshold", numberIn(0, 1))
    .requiredOption("--reason <text>", "why (audit log)")
    .action(async (threshold: number, options: { reason: string }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const answer = await client.admin.setMoralThreshold({ threshold, reason: options.reason });
        printMessage(context.output, SetMoralThresholdResponseSchema, answer);
      });
    });

  addSnapshotCommands(admin, run);

  const keys = admin.command("keys").description("manage runtime API keys");
  keys
    .command("create")
    .description("create an API key (its secret is shown once)")
    .requiredOption("--owner <name>", "who the key is for")
    .requiredOption("--role <roles>", "read, write and/or admin (comma separated, repeatable)", roles)
    .option("--ttl <duration>", "lifetime, e.g. 90d", durationSeconds)
    .option("--description <text>", "what the key is for", "")
    .action(
      async (
        options: { owner: string; role: Role[]; ttl?: number; description: string },
        command: Command,
      ) => {
        const context = contextOf(command, run);
        await withClient(context, async (client) => {
          const answer = await client.admin.createApiKey({
            owner: options.owner,
            roles: options.role,
            description: options.description,
            ...(options.ttl === undefined ? {} : { expiry: { case: "ttl", value: seconds(options.ttl) } }),
          });
          printMessage(context.output, CreateApiKeyResponseSchema, answer);
          if (!context.output.json) context.output.err("The secret is shown only once: store it now.\n");
        });
      },
    );
  keys
    .command("list")
    .description("list API keys")
    .option("--all", "include superseded, expired and revoked keys")
    .action(async (options: { all?: boolean }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const all: ApiKey[] = [];
        let pageToken = "";
        do {
          const page = await client.admin.listApiKeys({
            pageSize: 100,
            pageToken,
            includeInactive: options.all === true,
          });
          all.push(...page.keys);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        print(context.output, { keys: all.map((key) => messageJson(ApiKeySchema, key)) }, () =>
          table(["KEY ID", "OWNER", "ROLES", "STATE", "EXPIRES"], all.map(keyRow)),
        );
      });
    });
  keys
    .command("rotate")
    .description("replace a key by a new one; the old one stays valid for the overlap")
    .argument("<key-id>")
    .option("--overlap <duration>", "how long the old key stays valid, e.g. 24h", durationSeconds)
    .option("--ttl <duration>", "lifetime of the new key, e.g. 90d", durationSeconds)
    .option("--reason <text>", "why (audit log)", "")
    .action(
      async (
        keyId: string,
        options: { overlap?: number; ttl?: number; reason: string },
        command: Command,
      ) => {
        const context = contextOf(command, run);
        await withClient(context, async (client) => {
          const answer = await client.admin.rotateApiKey({
            keyId,
            reason: options.reason,
            ...(options.overlap === undefined ? {} : { overlap: seconds(options.overlap) }),
            ...(options.ttl === undefined ? {} : { ttl: seconds(options.ttl) }),
          });
          printMessage(context.output, RotateApiKeyResponseSchema, answer);
          if (!context.output.json) context.output.err("The new secret is shown only once: store it now.\n");
        });
      },
    );
  keys
    .command("revoke")
    .description("revoke a key at once")
    .argument("<key-id>")
    .requiredOption("--reason <text>", "why (audit log)")
    .action(async (keyId: string, options: { reason: string }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        printMessage(
          context.output,
          RevokeApiKeyResponseSchema,
          await client.admin.revokeApiKey({ keyId, reason: options.reason }),
        );
      });
    });
}
