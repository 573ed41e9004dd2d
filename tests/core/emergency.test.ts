/**
 * The emergency brake's recovery rules (REL-001) and the fix of the reference's W1, where
 * recovery counted steps that could not advance during an emergency.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EmergencyBrake, RECOVERY_DEFAULTS } from "../../src/core/emergency.js";

const SECOND = 1000;

describe("EmergencyBrake", () => {
  it("does not recover at 59 s and recovers at 60 s once the step cooldown has passed", () => {
    const brake = new EmergencyBrake();
    brake.engage("process_memory_exceeded", "rss", 0);
    for (let i = 0; i < 10; i++) brake.countStep();
    expect(brake.tryRecover(59 * SECOND, 0.1)).toMatchObject({ recovered: false, why: "cooldown running" });
    expect(brake.active).toBe(true);
    expect(brake.tryRecover(60 * SECOND, 0.1)).toEqual({ recovered: true });
    expect(brake.active).toBe(false);
    expect(brake.view()).toMatchObject({
      active: false,
      recoveryAttempts: 1,
      reason: "process_memory_exceeded",
    });
  });

  it("W1: recovers by itself when only refused calls or supervisor ticks advance (reference never did)", () => {
    const brake = new EmergencyBrake();
    brake.engage("memory_limit_exceeded", "store", 0);
    let now = 0;
    // The service is refused traffic while NOT_SERVING; only the 1 s supervisor tick runs.
    while (brake.active && now < 10 * 60 * SECOND) {
      now += SECOND;
      brake.countStep();
      brake.tryRecover(now, 0.5);
    }
    expect(brake.active).toBe(false);
    expect(now).toBe(60 * SECOND);
  });

  it("needs the step cooldown as well as the time cooldown", () => {
    const brake = new EmergencyBrake();
    brake.engage("processing_time_exceeded", "slow", 0);
    for (let i = 0; i < 9; i++) brake.countStep();
    expect(brake.tryRecover(120 * SECOND, 0)).toMatchObject({ why: "step cooldown running" });
    brake.countStep();
    expect(brake.tryRecover(120 * SECOND, 0)).toEqual({ recovered: true });
  });

  it("waits for memory to fall under the safety margin for memory reasons only", () => {
    const memory = new EmergencyBrake({ ...RECOVERY_DEFAULTS, cooldownSteps: 0 });
    memory.engage("process_memory_exceeded", "rss", 0);
    expect(memory.tryRecover(61 * SECOND, 0.81)).toMatchObject({
      why: "memory still above the safety margin",
    });
    expect(memory.tryRecover(61 * SECOND, 0.8)).toEqual({ recovered: true });
    const slow = new EmergencyBrake({ ...RECOVERY_DEFAULTS, cooldownSteps: 0 });
    slow.engage("processing_time_exceeded", "slow", 0);
    expect(slow.tryRecover(61 * SECOND, 0.99)).toEqual({ recovered: true });
  });

  it("after maxAttempts automatic recoveries only an operator reset helps, and reset is idempotent", () => {
    const brake = new EmergencyBrake({ ...RECOVERY_DEFAULTS, cooldownSteps: 0, maxAttempts: 2 });
    let now = 0;
    for (let attempt = 1; attempt <= 2; attempt++) {
      brake.engage("process_memory_exceeded", "rss", now);
      now += 60 * SECOND;
      expect(brake.tryRecover(now, 0)).toEqual({ recovered: true });
    }
    brake.engage("process_memory_exceeded", "rss", now);
    now += 3600 * SECOND;
    expect(brake.tryRecover(now, 0)).toMatchObject({ recovered: false, exhausted: true });
    expect(brake.view().nextRecoveryAtMs).toBeUndefined();
    expect(brake.reset(now)).toBe(true);
    expect(brake.reset(now)).toBe(false);
    expect(brake.view()).toMatchObject({ active: false, recoveryAttempts: 0 });
  });

  it("a manual emergency never recovers automatically", () => {
    const brake = new EmergencyBrake({ ...RECOVERY_DEFAULTS, cooldownSteps: 0 });
    brake.engage("manual", "operator", 0);
    expect(brake.tryRecover(24 * 3600 * SECOND, 0)).toMatchObject({ recovered: false, exhausted: true });
  });

  it("forgets old attempts after a sustained healthy period", () => {
    const brake = new EmergencyBrake({ ...RECOVERY_DEFAULTS, cooldownSteps: 0, maxAttempts: 1 });
    brake.engage("process_memory_exceeded", "rss", 0);
    expect(brake.tryRecover(60 * SECOND, 0)).toEqual({ recovered: true });
    brake.engage("process_memory_exceeded", "rss", 60 * SECOND + RECOVERY_DEFAULTS.healthyResetMs);
    expect(brake.view().recoveryAttempts).toBe(0);
  });

  it("property: with recovery enabled and memory fine, every non-manual emergency ends within cooldown + steps ticks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom<"process_memory_exceeded" | "memory_limit_exceeded" | "processing_time_exceeded">(
          "process_memory_exceeded",
          "memory_limit_exceeded",
          "processing_time_exceeded",
        ),
        (cooldownSeconds, cooldownSteps, reason) => {
          const brake = new EmergencyBrake({
            ...RECOVERY_DEFAULTS,
            cooldownMs: cooldownSeconds * SECOND,
            cooldownSteps,
          });
          brake.engage(reason, "x", 0);
          let ticks = 0;
          while (brake.active && ticks <= cooldownSeconds + cooldownSteps + 1) {
            ticks += 1;
            brake.countStep();
            brake.tryRecover(ticks * SECOND, 0.1);
          }
          return !brake.active && ticks <= Math.max(cooldownSeconds, cooldownSteps, 1);
        },
      ),
    );
  });
});
