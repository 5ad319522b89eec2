import { describe, expect, test } from "bun:test";
import { FanOutScheduler } from "./fan-out.ts";

describe("FanOutScheduler", () => {
  test("runs every task once, later, in batches that let the event loop turn in between", async () => {
    const scheduler = new FanOutScheduler(3);
    const ran: number[] = [];
    const tasks = Array.from({ length: 7 }, (_, i) => () => ran.push(i));
    for (const t of tasks) scheduler.schedule(t);
    scheduler.schedule(tasks[0]!); // again before it ran: still once
    expect(ran).toEqual([]);
    let turns = 0;
    while (scheduler.size > 0) {
      await new Promise((r) => setImmediate(r));
      turns++;
    }
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  test("a cancelled task does not run", async () => {
    const scheduler = new FanOutScheduler();
    let ran = false;
    const task = () => {
      ran = true;
    };
    scheduler.schedule(task);
    scheduler.cancel(task);
    await new Promise((r) => setImmediate(r));
    expect(ran).toBe(false);
  });
});
