/**
 * The loader: defaults, the YAML file, environment precedence, and one test per class of bad
 * value, each checking the ConfigError fields and its one-line message.
 */
import { describe, expect, it } from "vitest";
import { configSchema, loadConfig, resolveLogFormat } from "../../src/config/index.js";
import { configErrorOf, missingFile, yamlFile } from "./support.js";

describe("defaults", () => {
  it("an empty environment gives the schema defaults, no warnings, every source 'default'", () => {
    const loaded = loadConfig({ env: {} });
    expect(loaded.config).toEqual(configSchema.parse({}));
    expect(loaded.warnings).toEqual([]);
    expect(loaded.configFile).toBeUndefined();
    expect(new Set(Object.values(loaded.sources))).toEqual(new Set(["default"]));
    expect(Object.keys(loaded.sources)).toContain("server.grpcPort");
  });

  it("ignores variables without the MLSDM_ prefix", () => {
    expect(loadConfig({ env: { GRPC_PORT: "1", PORT: "2" } }).config.server.grpcPort).toBe(50051);
  });
});

describe("file and environment precedence", () => {
  const file = yamlFile(
    [
      "server:",
      "  grpcPort: 6000",
      "  httpPort: 6001",
      "log:",
      "  level: debug",
      "secureMode: true",
      "",
    ].join("\n"),
  );

  it("the file overrides defaults", () => {
    const { config, sources, configFile } = loadConfig({ env: { MLSDM_CONFIG: file } });
    expect(config.server).toMatchObject({ grpcPort: 6000, httpPort: 6001, host: "127.0.0.1" });
    expect(config.log.level).toBe("debug");
    expect(config.secureMode).toBe(true);
    expect(configFile).toBe(file);
    expect(sources["server.grpcPort"]).toBe(file);
    expect(sources["server.host"]).toBe("default");
  });

  it("the environment overrides the file", () => {
    const { config, sources } = loadConfig({
      env: { MLSDM_CONFIG: file, MLSDM_GRPC_PORT: "7000", MLSDM_LOG_LEVEL: "warn", MLSDM_SECURE_MODE: "no" },
    });
    expect(config.server.grpcPort).toBe(7000);
    expect(config.server.httpPort).toBe(6001);
    expect(config.log.level).toBe("warn");
    expect(config.secureMode).toBe(false);
    expect(sources["server.grpcPort"]).toBe("MLSDM_GRPC_PORT");
    expect(sources["server.httpPort"]).toBe(file);
  });

  it("an environment value rescues a bad file value for the same key", () => {
    const bad = yamlFile("server:\n  grpcPort: 70000\n");
    expect(loadConfig({ env: { MLSDM_CONFIG: bad, MLSDM_GRPC_PORT: "1" } }).config.server.grpcPort).toBe(1);
  });

  it("resolves a relative file path against the working directory", () => {
    const relative = file.startsWith(process.cwd()) ? file.slice(process.cwd().length + 1) : file;
    expect(loadConfig({ env: { MLSDM_CONFIG: relative } }).configFile).toBe(file);
  });

  it("treats an empty file and empty sections as 'use the defaults'", () => {
    expect(loadConfig({ env: { MLSDM_CONFIG: yamlFile("") } }).config).toEqual(configSchema.parse({}));
    const sparse = yamlFile("# nothing yet\nserver:\n  # grpcPort: 1\nlog:\n  level: error\n");
    const { config } = loadConfig({ env: { MLSDM_CONFIG: sparse } });
    expect(config.server.grpcPort).toBe(50051);
    expect(config.log.level).toBe("error");
  });

  it("lets an environment value into a section the file left empty", () => {
    const sparse = yamlFile("server:\n");
    expect(loadConfig({ env: { MLSDM_CONFIG: sparse, MLSDM_HOST: "0.0.0.0" } }).config.server.host).toBe(
      "0.0.0.0",
    );
  });
});

describe("bad values (E801)", () => {
  it("wrong type in the environment", () => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_GRPC_PORT: "abc" } }));
    expect(error).toMatchObject({
      code: "E801",
      reason: "CONFIG_INVALID",
      key: "server.grpcPort",
      source: "MLSDM_GRPC_PORT",
      value: "abc",
      allowed: "an integer from 0 to 65535",
    });
    expect(error.message).toBe(
      'E801 CONFIG_INVALID: server.grpcPort (MLSDM_GRPC_PORT) = "abc": expected an integer from 0 to 65535',
    );
    expect(error.name).toBe("ConfigError");
  });

  it("out of range in the environment, above and below", () => {
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_GRPC_PORT: "65536" } })).message).toBe(
      'E801 CONFIG_INVALID: server.grpcPort (MLSDM_GRPC_PORT) = "65536": expected an integer from 0 to 65535',
    );
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_MAX_MESSAGE_BYTES: "1023" } })).message).toBe(
      'E801 CONFIG_INVALID: server.maxMessageBytes (MLSDM_MAX_MESSAGE_BYTES) = "1023": expected an integer from 1024 to 67108864',
    );
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_DIMENSION: "0" } })).key).toBe("core.dimension");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_DRAIN_TIMEOUT_MS: "600001" } })).key).toBe(
      "server.drainTimeoutMs",
    );
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_SHUTDOWN_DELAY_MS: "-1" } })).key).toBe(
      "server.shutdownDelayMs",
    );
  });

  it("unknown enum word", () => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_LOG_FORMAT: "xml" } }));
    expect(error).toMatchObject({
      key: "log.format",
      source: "MLSDM_LOG_FORMAT",
      allowed: "one of: json, pretty, auto",
    });
    expect(error.message).toBe(
      'E801 CONFIG_INVALID: log.format (MLSDM_LOG_FORMAT) = "xml": expected one of: json, pretty, auto',
    );
  });

  it("empty string for a non-empty string key", () => {
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_HOST: "" } })).message).toBe(
      'E801 CONFIG_INVALID: server.host (MLSDM_HOST) = "": expected a non-empty string',
    );
  });

  it("wrong type in the file names the file as the source and shows the YAML value", () => {
    const file = yamlFile('server:\n  grpcPort: "50051"\n');
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } }));
    expect(error).toMatchObject({ key: "server.grpcPort", source: file, value: "50051" });
    expect(error.message).toBe(
      `E801 CONFIG_INVALID: server.grpcPort (${file}) = "50051": expected an integer from 0 to 65535`,
    );
  });

  it("a non-integer number and a YAML 1.1 'yes' in the file", () => {
    const fractional = yamlFile("core:\n  dimension: 1.5\n");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: fractional } })).message).toBe(
      `E801 CONFIG_INVALID: core.dimension (${fractional}) = 1.5: expected an integer from 1 to 4096`,
    );
    const yes = yamlFile("server:\n  reflection: yes\n");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: yes } })).message).toBe(
      `E801 CONFIG_INVALID: server.reflection (${yes}) = "yes": expected true or false`,
    );
  });

  it("out of range and unknown enum word in the file", () => {
    const range = yamlFile("server:\n  httpPort: 70000\n");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: range } }))).toMatchObject({
      key: "server.httpPort",
      source: range,
      value: 70000,
    });
    const word = yamlFile("log:\n  level: verbose\n");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: word } })).message).toBe(
      `E801 CONFIG_INVALID: log.level (${word}) = "verbose": expected one of: error, warn, info, debug`,
    );
  });

  it("unknown key in a section of the file, with a suggestion", () => {
    const file = yamlFile("server:\n  grpcPrt: 5\n");
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } }));
    expect(error).toMatchObject({ code: "E801", key: "server.grpcPrt", source: file, value: 5 });
    expect(error.message).toMatch(
      new RegExp(
        `^E801 CONFIG_INVALID: server\\.grpcPrt \\(${file}\\) = 5: unknown key \\(did you mean server\\.grpcPort\\?\\)`,
      ),
    );
    expect(error.message).toContain("expected one of: host, grpcPort, httpPort");
  });

  it("unknown key at the top level of the file", () => {
    const file = yamlFile("sever:\n  grpcPort: 5\n");
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } }));
    expect(error.key).toBe("sever");
    expect(error.message).toContain("unknown key (did you mean server?)");
  });

  it("a section that is not a mapping", () => {
    const file = yamlFile("server: 5\n");
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file, MLSDM_GRPC_PORT: "1" } }));
    expect(error.message).toBe(`E801 CONFIG_INVALID: server (${file}) = 5: expected a mapping of keys`);
  });

  it("every message is a single line", () => {
    const file = yamlFile('dataDir: "a\\nb"\nserver:\n  host: ""\n');
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } }));
    expect(error.message).not.toMatch(/\n/);
    expect(error.key).toBe("server.host");
  });
});

describe("file oddities", () => {
  it("refuses __proto__ as an unknown key instead of polluting prototypes", () => {
    const file = yamlFile("__proto__:\n  polluted: 1\n");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } })).key).toBe("__proto__");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("passes YAML parser warnings on, naming the file", () => {
    const file = yamlFile("dataDir: !custom ./x\n");
    const { config, warnings } = loadConfig({ env: { MLSDM_CONFIG: file } });
    expect(config.dataDir).toBe("./x");
    expect(warnings).toEqual([`${file}: Unresolved tag: !custom at line 1, column 10`]);
  });
});

describe("file errors (E802, E803)", () => {
  it("missing file", () => {
    const path = missingFile();
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: path } }));
    expect(error).toMatchObject({ code: "E802", reason: "CONFIG_FILE_UNREADABLE", source: path });
    expect(error.message).toMatch(
      /^E802 CONFIG_FILE_UNREADABLE: cannot read .* \(named by MLSDM_CONFIG\): ENOENT/,
    );
    expect(error.message).toContain(path);
    expect(error.message).not.toMatch(/\n/);
  });

  it("a directory instead of a file", () => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: process.cwd() } }));
    expect(error.code).toBe("E802");
  });

  it("MLSDM_CONFIG set but empty", () => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: "" } }));
    expect(error.message).toBe(
      "E802 CONFIG_FILE_UNREADABLE: MLSDM_CONFIG is set but empty; unset it or name a YAML file",
    );
  });

  it("YAML syntax error: one line naming the file and the position", () => {
    const file = yamlFile("server:\n  grpcPort: [1,\nlog: {\n");
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } }));
    expect(error).toMatchObject({ code: "E803", reason: "CONFIG_FILE_INVALID", source: file });
    expect(error.message).toMatch(
      new RegExp(`^E803 CONFIG_FILE_INVALID: ${file} \\(named by MLSDM_CONFIG\\)`),
    );
    expect(error.message).toMatch(/line \d+, column \d+/);
    expect(error.message).not.toMatch(/\n/);
  });

  it("duplicate keys are a YAML error, not a silent last-one-wins", () => {
    const file = yamlFile("server:\n  grpcPort: 1\n  grpcPort: 2\n");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } })).code).toBe("E803");
  });

  it("a top level that is not a mapping", () => {
    const file = yamlFile("- server\n- log\n");
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_CONFIG: file } }));
    expect(error.code).toBe("E803");
    expect(error.message).toContain("the top level must be a mapping");
  });

  it("the file is not read when an environment value is already bad", () => {
    const error = configErrorOf(() =>
      loadConfig({ env: { MLSDM_CONFIG: missingFile(), MLSDM_GRPC_PORT: "x" } }),
    );
    expect(error.code).toBe("E801");
  });
});

describe("log format", () => {
  it("auto is pretty on a TTY and JSON otherwise; explicit formats pass through", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("auto", undefined)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("the loader resolves it against isTty but keeps 'auto' in the config", () => {
    const onTty = loadConfig({ env: {}, isTty: true });
    expect(onTty.logFormat).toBe("pretty");
    expect(onTty.config.log.format).toBe("auto");
    expect(loadConfig({ env: {}, isTty: false }).logFormat).toBe("json");
    expect(loadConfig({ env: { MLSDM_LOG_FORMAT: "json" }, isTty: true }).logFormat).toBe("json");
  });
});
