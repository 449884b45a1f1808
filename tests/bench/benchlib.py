"""What the benchmarks under tests/bench/ share: the processes of a stack a
benchmark started itself, their memory and CPU, and writing results as JSON.

Memory and CPU are counted only over process trees whose roots the
benchmark started (its glyphic-fcgi, glyphic-events, executors, nginx and
the postmaster of its throwaway PostgreSQL), never by matching program
names in /proc: another Glyphic, nginx or PostgreSQL on the machine (other
benchmarks, tests, a real installation) is not counted.

    import benchlib
    parts = benchlib.stack_parts(env, executors=[ex])   # {"glyphic": {...}, "nginx": {...}, "postgres": {...}}
    benchlib.pss_mib(parts["glyphic"])
    benchlib.cpu_seconds(benchlib.stack_pids(env))
    benchlib.write_json(path, {"rows": [...]})
"""
import json
import os


def _parents():
    """{pid: parent pid} of every process now, from one pass over /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return parent


def _tree(roots, parent):
    kids = {}
    for pid, ppid in parent.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = set(), [r for r in roots if r in parent]
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(kids.get(p, ()))
    return out


def tree_pids(roots):
    """The live processes among roots and all their descendants (a set)."""
    return _tree(set(roots), _parents())


def process_tree(root):
    """root and all its descendants that are alive now (a list)."""
    return sorted(tree_pids([root]))


def trees(roots_by_name):
    """{name: set of pids} for {name: iterable of root pids}, from one pass over /proc."""
    parent = _parents()
    return {name: _tree(set(roots), parent) for name, roots in roots_by_name.items()}


def postmaster_pid(pg):
    """The postmaster of a harness.Postgres (first line of postmaster.pid), or None."""
    try:
        with open(os.path.join(pg.data, "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def _pid(part):
    proc = getattr(part, "proc", None)
    return proc.pid if proc is not None and proc.poll() is None else None


def stack_roots(env, executors=()):
    """{"glyphic": roots, "nginx": roots, "postgres": roots} of a harness.Env:
    glyphic-fcgi's master, glyphic-events, the executors the env started
    (env.start_executor) and those given (Popen objects or pids), nginx's
    master and the postmaster. Parts not running are left out."""
    glyphic = {_pid(env.fcgi), _pid(env.events)}
    for p in list(getattr(env, "executors", ())) + list(executors):
        glyphic.add(p if isinstance(p, int) else (p.pid if p.poll() is None else None))
    return {"glyphic": glyphic - {None}, "nginx": {_pid(env.nginx)} - {None},
            "postgres": {postmaster_pid(env.pg)} - {None}}


def stack_parts(env, executors=()):
    """{"glyphic": pids, "nginx": pids, "postgres": pids}: the process trees
    under stack_roots(env, executors), as they are now."""
    return trees(stack_roots(env, executors))


def stack_pids(env, executors=()):
    """Every process of the stack env started (and of executors): one set."""
    return set().union(*stack_parts(env, executors).values())


def _status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def mem_kib(pid):
    """(RSS, PSS) of one process in KiB; 0 for what cannot be read (gone,
    or another user's smaps_rollup)."""
    return _status_kib(pid, "VmRSS:") or 0, _pss_kib(pid) or 0


def pss_mib(pids):
    """Sum of Pss over /proc/PID/smaps_rollup of pids, in MiB (gone pids count 0)."""
    return sum(_pss_kib(p) or 0 for p in pids) / 1024


def rss_kib(pids):
    """Sum of VmRSS over pids, in KiB (gone pids count 0)."""
    return sum(_status_kib(p, "VmRSS:") or 0 for p in pids)


def cpu_ticks(pids, reaped=False):
    """user + system CPU clock ticks the processes pids have used so far;
    with reaped, also what their children that ended used (cutime,
    cstime). A process that ends during a measurement (a PostgreSQL
    backend or autovacuum worker, a recycled glyphic-fcgi worker) takes its
    own ticks with it, and the parent that reaps it gains them: summed with
    reaped over a whole process tree the count only grows, where the
    processes' own ticks alone made a window with such an ending come out
    short, even negative. (Without reaped: for a caller that keeps each
    pid's highest count itself.)"""
    # a child reaped between reading it and reading its parent would be
    # counted twice (or, the other way round, not at all): a pass during
    # which a process went away is taken again
    for _ in range(5):
        total = 0
        for p in pids:
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
                if reaped:
                    total += int(fields[13]) + int(fields[14])
            except (OSError, IndexError, ValueError):
                pass
        if not reaped or all(os.path.exists(f"/proc/{p}") for p in pids):
            break
        pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
    return total


def cpu_seconds(pids):
    """user + system CPU seconds the process trees pids have used so far,
    the children they reaped included (cpu_ticks with reaped): pids must
    hold every process of the trees, as stack_pids and tree_pids give."""
    return cpu_ticks(pids, reaped=True) / os.sysconf("SC_CLK_TCK")


def add_json_option(ap):
    ap.add_argument("--json", metavar="FILE",
                    help="also write the figures as JSON to FILE (read by tests/bench/all)")


def write_json(path, data):
    """Writes data to path as JSON (through a temporary file and a rename,
    so a reader never sees half a file); nothing when path is empty."""
    if not path:
        return
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
