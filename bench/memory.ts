/**
 * Peak resident memory of the Pulumi CLI and its children while an operation runs: every
 * `intervalMs` the process tree under the CLI's PID is read from /proc, each process is classified
 * by its command line, and its `VmHWM` (the kernel's own high-water mark of resident memory) is kept.
 * VmHWM already holds the peak between two samples; only growth in the last interval before a
 * process exits can be missed.
 */
import * as fs from "fs";
import * as path from "path";
import { descendants } from "../rig/elasticsearch";

/** The processes of one Pulumi operation. */
export type ProcessRole = "pulumi" | "dynamic-provider" | "language-host" | "program" | "other";

/** Peak memory of one role: the largest VmHWM among its processes, and how many there were. */
export interface RolePeak {
    /** Largest VmHWM seen, in MB. */
    peakMb: number;
    /** Processes of this role seen during the run. */
    processes: number;
}

function classify(pid: number, rootPid: number): ProcessRole {
    if (pid === rootPid) return "pulumi";
    let argv: string[] = [];
    try {
        argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
        return "other";
    }
    const exe = path.basename(argv[0] ?? "");
    const cmd = argv.join(" ");
    if (exe === "pulumi-language-nodejs") return "language-host";
    if (exe !== "node") return "other";
    // pulumi-resource-pulumi-nodejs is a shell script that first runs `node -p require.resolve(…dynamic-provider…)`
    // and then execs node on the provider: the helper is not the provider, and the shell becomes it.
    if (cmd.includes("require.resolve")) return "other";
    if (cmd.includes("dynamic-provider")) return "dynamic-provider";
    if (cmd.includes("@pulumi/pulumi")) return "program";
    return "other";
}

function hwmKb(pid: number): number | undefined {
    try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
        return m ? Number(m[1]) : undefined;
    } catch {
        return undefined;
    }
}

/** Samples the tree under `rootPid` until `stop()`; returns the peaks per role. */
export function sampleTree(rootPid: number, intervalMs = 100): { stop(): Record<ProcessRole, RolePeak> } {
    const seen = new Map<number, { role: ProcessRole; hwm: number }>();
    const sample = () => {
        let pids: number[];
        try {
            pids = [rootPid, ...descendants(rootPid)];
        } catch {
            return;
        }
        for (const pid of pids) {
            const kb = hwmKb(pid);
            if (kb === undefined) continue;
            const prev = seen.get(pid);
            if (prev) {
                prev.hwm = Math.max(prev.hwm, kb);
                // A process seen before its exec (the provider's shell wrapper) is classified again.
                if (prev.role === "other") prev.role = classify(pid, rootPid);
            } else {
                seen.set(pid, { role: classify(pid, rootPid), hwm: kb });
            }
        }
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        stop: () => {
            clearInterval(timer);
            const out = {} as Record<ProcessRole, RolePeak>;
            for (const role of ["pulumi", "dynamic-provider", "language-host", "program", "other"] as ProcessRole[]) {
                const mine = [...seen.values()].filter((s) => s.role === role);
                out[role] = { peakMb: mine.length ? Math.max(...mine.map((s) => s.hwm)) / 1024 : 0, processes: mine.length };
            }
            return out;
        },
    };
}
