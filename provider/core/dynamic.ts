/**
 * Glue between `pulumi.dynamic.Resource` and the hook modules in `provider/`.
 *
 * Pulumi serializes the provider object's functions into the state and runs them in a separate
 * dynamic-provider process (Pulumi serializes closures by value). Capturing our modules would serialize their code by
 * value (and every module they import); instead each hook `require`s the real implementation by
 * package name at run time. The serialized text is then the same for every version of this package,
 * so upgrading it never shows a diff, and the hooks always run the installed code. The
 * dynamic-provider process resolves the name from its working directory, the Pulumi program's
 * folder, i.e. the program's own `node_modules/pulumi-es-remote`.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * @internal Every hook module (`provider/<resource>.ts`) exports these six functions, typed with
 * its resource's inputs `I` (as the engine resolves them) and outputs `O` (what the state holds).
 * Each hook module proves it with a `HookModule<I, O>` constant, so a hook whose signature drifts
 * from its resource's types fails to compile.
 */
export interface HookModule<I = any, O = any> {
    check(olds: Partial<I>, news: I): Promise<pulumi.dynamic.CheckResult<I>>;
    diff(id: string, olds: O, news: I): Promise<pulumi.dynamic.DiffResult>;
    create(inputs: I): Promise<pulumi.dynamic.CreateResult<O>>;
    read(id: string, props: O): Promise<pulumi.dynamic.ReadResult<O>>;
    update(id: string, olds: O, news: I): Promise<pulumi.dynamic.UpdateResult<O>>;
    delete(id: string, props: O): Promise<void>;
}

/**
 * Returns the provider object for the hook module `provider/<name>` (e.g. `"remoteClusterLink"`).
 * @internal
 */
export function dispatchingProvider(name: string): pulumi.dynamic.ResourceProvider {
    // Only `name` (a string) is captured; `require` is never serialized by Pulumi. The engine
    // hands the hooks JSON it resolved from the user's inputs: each hook narrows it (check
    // validates it) before use.
    const hooks = (): HookModule => require(`pulumi-es-remote/provider/${name}`);
    return {
        check: (olds: any, news: any) => hooks().check(olds, news),
        diff: (id: string, olds: any, news: any) => hooks().diff(id, olds, news),
        create: (inputs: any) => hooks().create(inputs),
        read: (id: string, props: any) => hooks().read(id, props),
        update: (id: string, olds: any, news: any) => hooks().update(id, olds, news),
        delete: (id: string, props: any) => hooks().delete(id, props),
    };
}

/** The engine's placeholder for a value not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True if `v` is, or contains anywhere, a value that is not known until the update runs. */
export function containsUnknown(v: unknown): boolean {
    if (v === UNKNOWN) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(containsUnknown);
    }
    if (v !== null && typeof v === "object") {
        return Object.values(v).some(containsUnknown);
    }
    return false;
}

/**
 * Deep copy that drops `undefined` (the dynamic provider's outputs must be plain JSON) and the
 * engine's `__provider` key.
 * @internal
 */
export function plain<T>(v: T): T {
    return JSON.parse(JSON.stringify(v, (k, x) => (k === "__provider" ? undefined : x)));
}

/**
 * {@link plain} of a hook's inputs: the engine always sends an object; anything else (never seen,
 * but checks must not throw) counts as no inputs at all.
 * @internal
 */
export function plainInputs<T>(v: unknown): T {
    const p = plain(v ?? {}) as unknown;
    return (p !== null && typeof p === "object" && !Array.isArray(p) ? p : {}) as T;
}
