#!/usr/bin/env python3
"""End-to-end scenarios: run tools/hvrun per tests/e2e.manifest and check the results.

usage: tests/e2e.py [--jobs N] [--filter REGEX] [--list] [--manifest FILE] [--selftest]

Manifest format (one section per scenario; '#' starts a comment line):

    [name]
    args = ARGS          tools/hvrun arguments, split like a shell (shlex)
    status = N           expected exit status of tools/hvrun (default 1)
    expect = REGEX       must match the console output (Python re, MULTILINE); repeatable
    reject = REGEX       must not match; repeatable
    ratio = F REGEX      REGEX (Python re, MULTILINE) has exactly one capturing group, an
                         integer; every match over the console output is collected, and
                         the scenario fails unless there are at least 2 matches, the
                         smallest is above 0 and largest / smallest <= F (a decimal, e.g.
                         1.5); the failure names the values. Repeatable. E.g.
                         `ratio = 1.5 ^\[\w+\] overcommit: vm=\w+ .*run_ticks=(\d+)`:
                         the VMs' CPU times are within a factor 1.5
    timeout = S          seconds (default 120); passed to hvrun as --timeout unless ARGS
                         has one, and enforced here too (plus a grace period)
    requires = WHAT ...  bochs3 | bochs27 | qemu | kvm (space or comma separated); the
                         emulator chosen by ARGS is required implicitly. Missing -> SKIP.
    check = NAME         a built-in check of the console output (CHECKS below), e.g.
                         `uartflood`: every line guests/uartflood sent is there, intact,
                         exactly once. `hvtrace-bench`: a guests/bench run with
                         `--trace FILE` in ARGS; tools/hvtrace --bench decodes FILE and
                         its interrupt paths must agree with the guest's figures.
                         `hvtrace-counters`: the same for any guest: every vCPU's
                         records agree with the hypervisor's counters. Repeatable.
    stdin = TEXT         hvrun's standard input (a pipe; hvrun forwards it to COM1):
                         TEXT with Python string escapes (\\n, \\r, \\t, \\\\, \\xHH);
                         repeatable, the pieces are joined. Without it stdin is /dev/null
    stdin_after = REGEX  write the stdin TEXT only once a console line matches REGEX
                         (Python re, searched in each line as hvrun prints it); then
                         stdin is closed. Default: at once

Prints `PASS name (Ns)`, `FAIL name: reason (log: PATH)` or `SKIP name: reason`, writes
every console log to build/test-logs/NAME.log, and ends with `N passed, N failed`
(`, N skipped` when some were skipped). Exit status 0 iff nothing failed.
`--selftest` checks the manifest parser and the ratio check on built-in examples (no
emulator) and exits 0 iff they behave (tests/check-e2e runs it under `make test`).
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HVRUN = os.path.join(ROOT, 'tools', 'hvrun')
LOGDIR = os.path.join(ROOT, 'build', 'test-logs')
GRACE = 20          # seconds on top of a scenario's timeout before e2e.py kills hvrun
KNOWN_KEYS = {'args', 'status', 'expect', 'reject', 'ratio', 'timeout', 'requires', 'check',
              'stdin', 'stdin_after'}
KNOWN_REQS = {'bochs3', 'bochs27', 'qemu', 'kvm'}


class ManifestError(Exception):
    pass


class Scenario:
    def __init__(self, name, where):
        self.name = name
        self.where = where
        self.args = None
        self.status = 1
        self.expect = []
        self.reject = []
        self.ratio = []        # (F, regex text, compiled regex)
        self.timeout = 120.0
        self.requires = []
        self.checks = []       # names in CHECKS
        self.stdin = None      # bytes for hvrun's standard input, or None: /dev/null
        self.stdin_after = None   # (regex text, compiled): write stdin once a line matches


def parse_ratio(val):
    """`F REGEX` -> (F, REGEX, compiled); ValueError or re.error when malformed."""
    f, _, text = val.partition(' ')
    text = text.strip()
    try:
        bound = float(f)
    except ValueError:
        raise ValueError('expected F REGEX, F a number (e.g. 1.5), not %r' % f)
    if not bound >= 1.0:
        raise ValueError('F must be at least 1 (largest / smallest), not %s' % f)
    if not text:
        raise ValueError('expected F REGEX: no REGEX')
    rx = re.compile(text, re.MULTILINE)
    if rx.groups != 1:
        raise ValueError('REGEX must have exactly one capturing group, /%s/ has %d'
                         % (text, rx.groups))
    return bound, text, rx


def check_ratio(bound, text, rx, out):
    """None if the matches of rx in out are >= 2 integers, min > 0 and max/min <= bound;
    else the reason, naming the values."""
    raw = [m.group(1) for m in rx.finditer(out)]
    try:
        vals = [int(v) for v in raw]
    except (TypeError, ValueError):
        return 'ratio /%s/: not integers: %s' % (text, ', '.join(map(str, raw))[:200])
    shown = ', '.join(map(str, vals))
    if len(shown) > 200:
        shown = shown[:200] + '...'
    if len(vals) < 2:
        return 'ratio /%s/: %d match%s (%s), need at least 2' % (
            text, len(vals), '' if len(vals) == 1 else 'es', shown or 'none')
    lo, hi = min(vals), max(vals)
    if lo <= 0:
        return 'ratio /%s/: values %s: smallest is %d, max/min undefined' % (text, shown, lo)
    if hi > bound * lo:
        return 'ratio /%s/: values %s: max/min = %d/%d = %.3g > %g' % (
            text, shown, hi, lo, hi / lo, bound)
    return None


UARTFLOOD_LINE = re.compile(r'uf v(\d+) ([CP]) s(\d+) len=(\d+) ')
VUART_LINE = 200    # hv/vm/vm.h: COM1 output is printed in pieces of this many bytes


def uartflood_sum(text):
    s = 0
    for b in text.encode('latin-1', 'replace'):
        s = (s * 31 + b) & 0xffff
    return s


def check_uartflood(out):
    """guests/uartflood: every line (vCPU, kind, seq) exactly once and intact; a COM1
    line comes in VUART_LINE-byte pieces, with HC_PUTS lines possibly in between."""
    m = re.search(r'^\[(\S+)\] uartflood: done lines=(\d+) vcpus=(\d+)', out, re.MULTILINE)
    if not m:
        return 'no "uartflood: done" line'
    prefix, n, vcpus = '[%s] ' % m.group(1), int(m.group(2)), int(m.group(3))
    seen, errors = set(), []

    def verify(text):
        lm = UARTFLOOD_LINE.match(text)
        ln = int(lm.group(4)) if lm else -1
        if not lm or len(text) != ln + 9 or text[ln:ln + 5] != ' sum=' or \
                text[ln + 5:] != '%04x' % uartflood_sum(text[:ln]):
            errors.append('corrupt line %r' % text[:70])
            return
        key = (int(lm.group(1)), lm.group(2), int(lm.group(3)))
        if key in seen:
            errors.append('line v%d %s s%d twice' % key)
        seen.add(key)

    com1 = None          # the COM1 line being reassembled from its pieces
    for line in out.splitlines():
        if not line.startswith(prefix):
            continue
        text = line[len(prefix):]
        lm = UARTFLOOD_LINE.match(text)
        if lm and lm.group(2) == 'P':
            verify(text)
        elif lm:
            if com1 is not None:
                errors.append('COM1 line cut short: %r' % com1[:70])
            com1 = text if len(text) == VUART_LINE else None
            if com1 is None:
                verify(text)
        elif com1 is not None:
            com1 += text
            if len(text) < VUART_LINE:
                verify(com1)
                com1 = None
    if com1 is not None:
        errors.append('COM1 line cut short: %r' % com1[:70])
    missing = [(v, k, s) for v in range(vcpus) for k in 'CP' for s in range(n) if (v, k, s) not in seen]
    if missing:
        errors.append('%d lines missing (first v%d %s s%d)' % ((len(missing),) + missing[0]))
    return '; '.join(errors[:3]) if errors else None


def check_hvtrace_bench(out, args):
    """A traced run of guests/bench (args has --trace FILE): tools/hvtrace decodes the
    trace and its paths agree with the guest's own figures (hvtrace --bench)."""
    if '--trace' not in args:
        return 'the scenario has no --trace FILE'
    path = os.path.join(ROOT, args[args.index('--trace') + 1])
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'hvtrace'), '--bench', '-', path],
                       input=out, capture_output=True, text=True)
    if p.returncode != 0:
        return 'hvtrace status %d: %s' % (p.returncode, (p.stderr or p.stdout).strip()[-400:])
    return None


def check_hvtrace_counters(out, args):
    """A traced run (args has --trace FILE): every vCPU's records agree with the
    hypervisor's counters printed at VM stop (hvtrace --counters), and hvtrace prints
    the per-path breakdown."""
    if '--trace' not in args:
        return 'the scenario has no --trace FILE'
    path = os.path.join(ROOT, args[args.index('--trace') + 1])
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'hvtrace'), '--counters', '-', path],
                       input=out, capture_output=True, text=True)
    if p.returncode != 0:
        return 'hvtrace status %d: %s' % (p.returncode, (p.stderr or p.stdout).strip()[-400:])
    if 'paths: ' not in p.stdout:
        return 'hvtrace printed no path breakdown'
    return None


CHECKS = {'uartflood': check_uartflood, 'hvtrace-bench': check_hvtrace_bench,
          'hvtrace-counters': check_hvtrace_counters}
ARG_CHECKS = {'hvtrace-bench', 'hvtrace-counters'}   # also given the scenario's hvrun arguments


def parse_manifest(path):
    scenarios = []
    cur = None
    names = set()
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip('\n')
            s = line.strip()
            where = '%s:%d' % (path, n)
            if not s or s.startswith('#'):
                continue
            m = re.match(r'^\[([A-Za-z0-9_.-]+)\]$', s)
            if m:
                if m.group(1) in names:
                    raise ManifestError('%s: duplicate scenario [%s]' % (where, m.group(1)))
                names.add(m.group(1))
                cur = Scenario(m.group(1), where)
                scenarios.append(cur)
                continue
            key, eq, val = s.partition('=')
            key, val = key.strip(), val.strip()
            if not eq or key not in KNOWN_KEYS:
                raise ManifestError('%s: expected [name] or KEY = VALUE (%s)'
                                    % (where, ', '.join(sorted(KNOWN_KEYS))))
            if cur is None:
                raise ManifestError('%s: %s outside a [section]' % (where, key))
            try:
                if key == 'args':
                    cur.args = shlex.split(val)
                elif key == 'status':
                    cur.status = int(val, 0)
                elif key == 'timeout':
                    cur.timeout = float(val)
                elif key in ('expect', 'reject'):
                    getattr(cur, key).append((val, re.compile(val, re.MULTILINE)))
                elif key == 'ratio':
                    cur.ratio.append(parse_ratio(val))
                elif key == 'check':
                    if val not in CHECKS:
                        raise ValueError('unknown check %r (%s)' % (val, ', '.join(sorted(CHECKS))))
                    cur.checks.append(val)
                elif key == 'stdin':
                    text = val.encode('latin-1', 'backslashreplace').decode('unicode_escape')
                    cur.stdin = (cur.stdin or b'') + text.encode('latin-1')
                elif key == 'stdin_after':
                    cur.stdin_after = (val, re.compile(val))
                elif key == 'requires':
                    reqs = [r for r in re.split(r'[\s,]+', val) if r]
                    bad = [r for r in reqs if r not in KNOWN_REQS]
                    if bad:
                        raise ValueError('unknown requirement %s (%s)'
                                         % (', '.join(bad), ', '.join(sorted(KNOWN_REQS))))
                    cur.requires += reqs
            except (ValueError, re.error) as e:
                raise ManifestError('%s: %s: %s' % (where, key, e))
    for sc in scenarios:
        if sc.args is None:
            raise ManifestError('%s: [%s] has no args' % (sc.where, sc.name))
    return scenarios


# --------------------------------------------------------------------------
# requirements

_req_cache = {}


def have(req):
    if req in _req_cache:
        return _req_cache[req]
    why = None
    if req == 'bochs3':
        path = os.environ.get('HVRUN_BOCHS')
        if not path:
            try:
                path = subprocess.run(['bash', os.path.join(ROOT, 'tools', 'setup'),
                                       '--print-bochs'], capture_output=True, text=True,
                                      timeout=30).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                path = ''
        if not (path and os.access(path, os.X_OK)):
            why = 'Bochs 3.0 not built (run tools/setup)'
    elif req == 'bochs27':
        if not os.access('/usr/bin/bochs', os.X_OK):
            why = "Debian's Bochs 2.7 (/usr/bin/bochs) not installed"
    elif req == 'qemu':
        if not shutil.which('qemu-system-x86_64'):
            why = 'qemu-system-x86_64 not installed'
    elif req == 'kvm':
        if not shutil.which('qemu-system-x86_64'):
            why = 'qemu-system-x86_64 not installed'
        elif not os.access('/dev/kvm', os.R_OK | os.W_OK):
            why = '/dev/kvm not usable'
        else:
            try:
                with open('/proc/cpuinfo') as f:
                    if not re.search(r'^flags\s*:.*\bvmx\b', f.read(), re.M):
                        why = 'host CPU has no VMX (nested KVM impossible)'
            except OSError:
                why = 'cannot read /proc/cpuinfo'
    _req_cache[req] = why
    return why


def implied_requirements(args):
    emu = 'bochs'
    for i, a in enumerate(args):
        if a == '--emulator' and i + 1 < len(args):
            emu = args[i + 1]
        elif a.startswith('--emulator='):
            emu = a.split('=', 1)[1]
    return {'bochs': ['bochs3'], 'bochs27': ['bochs27'], 'qemu': ['qemu'],
            'kvm': ['kvm']}.get(emu, [])


# --------------------------------------------------------------------------
# running

_running = set()
_running_lock = threading.Lock()
_stopping = False


def kill_tree(proc):
    """hvrun runs in its own session; SIGTERM lets it kill its emulator, then SIGKILL
    (its emulator then dies of PR_SET_PDEATHSIG)."""
    for sig, wait in ((signal.SIGTERM, 8), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


def communicate_stdin(proc, sc, timeout):
    """Like communicate(), but writes sc.stdin to hvrun (at once, or after the first
    console line matching sc.stdin_after), then closes its stdin."""
    out, errout = [], []
    sent = threading.Event()

    def send():
        if sent.is_set():
            return
        sent.set()
        try:
            proc.stdin.write(sc.stdin)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def read_out():
        for line in iter(proc.stdout.readline, b''):
            out.append(line)
            if sc.stdin_after and sc.stdin_after[1].search(line.decode('utf-8', 'replace')):
                send()

    def read_err():
        errout.append(proc.stderr.read())

    threads = [threading.Thread(target=read_out, daemon=True),
               threading.Thread(target=read_err, daemon=True)]
    for t in threads:
        t.start()
    if not sc.stdin_after:
        send()
    try:
        proc.wait(timeout=timeout)
    finally:
        for t in threads:
            t.join(timeout=5)
        if not sent.is_set():
            sent.set()
            try:
                proc.stdin.close()
            except OSError:
                pass
    return b''.join(out), b''.join(errout)


def run_scenario(sc):
    log = os.path.join(LOGDIR, sc.name + '.log')
    args = list(sc.args)
    if not any(a == '--timeout' or a.startswith('--timeout=') for a in args):
        args = ['--timeout', '%g' % sc.timeout] + args
    cmd = [sys.executable, HVRUN] + args
    t0 = time.monotonic()
    if _stopping:
        return ('SKIP', sc, 'interrupted', None, 0)
    proc = subprocess.Popen(cmd, cwd=ROOT,
                            stdin=subprocess.DEVNULL if sc.stdin is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    with _running_lock:
        _running.add(proc)
    killed = False
    try:
        if sc.stdin is None:
            out, errout = proc.communicate(timeout=sc.timeout + GRACE)
        else:
            out, errout = communicate_stdin(proc, sc, sc.timeout + GRACE)
    except subprocess.TimeoutExpired:
        killed = True
        kill_tree(proc)
        out, errout = proc.communicate()
    finally:
        with _running_lock:
            _running.discard(proc)
    dt = time.monotonic() - t0
    out = out.decode('utf-8', 'replace')
    errout = errout.decode('utf-8', 'replace')
    rc = proc.returncode
    with open(log, 'w') as f:
        f.write('# %s\n' % ' '.join(shlex.quote(c) for c in ['tools/hvrun'] + args))
        f.write(out)
        if out and not out.endswith('\n'):
            f.write('\n')
        f.write('# hvrun exit status %s, %.1f s\n' % (rc, dt))
        if errout:
            f.write('# --- hvrun stderr ---\n')
            f.write(errout)

    reasons = []
    if killed:
        reasons.append('hung: killed after %g s' % (sc.timeout + GRACE))
    elif _stopping and rc is not None and rc >= 128:
        return ('SKIP', sc, 'interrupted', log, dt)
    elif rc != sc.status:
        what = {124: ' (timeout)', 125: ' (hvrun/emulator error)'}.get(rc, '')
        msg = 'status %s%s, expected %d' % (rc, what, sc.status)
        notes = [l[len('hvrun: '):].strip() for l in errout.splitlines()
                 if l.startswith('hvrun: ') and '---' not in l]
        if rc in (124, 125) and notes:
            msg += ' [%s]' % ' / '.join(notes[:2])
        reasons.append(msg)
    quiet_fail = rc in (124, 125) and not out.strip()   # nothing ran: the status says it
    for text, rx in ([] if quiet_fail else sc.expect):
        if not rx.search(out):
            reasons.append('missing /%s/' % text)
    for bound, text, rx in ([] if quiet_fail else sc.ratio):
        why = check_ratio(bound, text, rx, out)
        if why:
            reasons.append(why)
    for name in ([] if quiet_fail else sc.checks):
        why = CHECKS[name](out, args) if name in ARG_CHECKS else CHECKS[name](out)
        if why:
            reasons.append('check %s: %s' % (name, why))
    for text, rx in sc.reject:
        m = rx.search(out)
        if m:
            line = out[out.rfind('\n', 0, m.start()) + 1:].split('\n', 1)[0]
            reasons.append('rejected /%s/ matched: %s' % (text, line.strip()[:120]))
    if reasons:
        return ('FAIL', sc, '; '.join(reasons), log, dt)
    return ('PASS', sc, None, log, dt)


def on_signal(signo, frame):
    global _stopping
    _stopping = True
    with _running_lock:
        procs = list(_running)
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    raise KeyboardInterrupt


SELFTEST_MANIFEST = r"""
# a comment
[one]
args = --cpus 2 build/guests/hello.elf --append "a b"
ratio = 1.5 ^\[\w+\] overcommit: vm=\w+ .*run_ticks=(\d+)
ratio = 2 x=(\d+)
"""

SELFTEST_BAD = [
    ('ratio = 1.5 no-group=\\d+', 'exactly one capturing group'),
    ('ratio = 1.5 (a)=(\\d+)', 'exactly one capturing group'),
    ('ratio = fast x=(\\d+)', 'a number'),
    ('ratio = 0.5 x=(\\d+)', 'at least 1'),
    ('ratio = 1.5', 'no REGEX'),
    ('ratio = 1.5 x=(\\d+', 'missing'),
]


def selftest():
    """The manifest parser and check_ratio on built-in cases; prints each, exit 0 iff
    all behave."""
    import tempfile
    bad = 0

    def case(ok, what):
        nonlocal bad
        print('%s %s' % ('ok  ' if ok else 'FAIL', what))
        bad += not ok

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'm')
        with open(path, 'w') as f:
            f.write(SELFTEST_MANIFEST)
        sc = parse_manifest(path)[0]
        case([(b, t) for b, t, _ in sc.ratio] == [
            (1.5, r'^\[\w+\] overcommit: vm=\w+ .*run_ticks=(\d+)'), (2.0, r'x=(\d+)')],
            'ratio lines parsed: %s' % [(b, t) for b, t, _ in sc.ratio])
        for line, want in SELFTEST_BAD:
            with open(path, 'w') as f:
                f.write('[s]\nargs = x\n%s\n' % line)
            try:
                parse_manifest(path)
                case(False, '%r rejected (it was accepted)' % line)
            except ManifestError as e:
                case(want in str(e), '%r rejected: %s' % (line, e))
        bound, text, rx = sc.ratio[0]
        log = ('[a] overcommit: vm=a vcpus=2 ticks=5 rounds=7 run_ticks=%d\n'
               '[hv:0] sched vm=a run_ticks=999999\n'
               '[b] overcommit: vm=b vcpus=2 ticks=5 rounds=7 run_ticks=%d\n'
               '[c] overcommit: vm=c vcpus=2 ticks=5 rounds=7 run_ticks=%d\n')
        for vals, ok in (((100, 150, 120), True), ((100, 151, 120), False),
                         ((0, 0, 0), False), ((7, 7, 7), True)):
            why = check_ratio(bound, text, rx, log % vals)
            case((why is None) == ok and (ok or all(str(v) in why for v in vals)),
                 'run_ticks %s -> %s' % (vals, why or 'within 1.5'))
        for out, ok in (('x=5\n', False), ('', False), ('x=5 x=10\n', True),
                        ('x=5 x=11\n', False)):
            why = check_ratio(2.0, 'x=(\\d+)', re.compile(r'x=(\d+)', re.M), out)
            case((why is None) == ok, '%r -> %s' % (out, why or 'within 2'))
        why = check_ratio(2.0, 'x=(\\w+)', re.compile(r'x=(\w+)', re.M), 'x=5 x=n/a')
        case(bool(why) and 'not integers' in why, "'x=5 x=n/a' -> %s" % why)
    print('selftest: %s' % ('%d failed' % bad if bad else 'all passed'))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__[__doc__.index('Manifest format'):])
    ap.add_argument('--jobs', '-j', type=int, default=2, help='parallel scenarios (default 2)')
    ap.add_argument('--filter', '-f', metavar='REGEX', help='run scenarios whose name matches')
    ap.add_argument('--list', '-l', action='store_true', help='list scenarios and exit')
    ap.add_argument('--manifest', default=os.path.join(ROOT, 'tests', 'e2e.manifest'))
    ap.add_argument('--selftest', action='store_true',
                    help='check the manifest parser and the ratio check, run nothing')
    a = ap.parse_args()
    if a.selftest:
        return selftest()
    try:
        scenarios = parse_manifest(a.manifest)
    except (OSError, ManifestError) as e:
        print('e2e: %s' % e, file=sys.stderr)
        print('0 passed, 1 failed')
        return 1
    if a.filter:
        try:
            rx = re.compile(a.filter)
        except re.error as e:
            print('e2e: --filter: %s' % e, file=sys.stderr)
            return 2
        scenarios = [s for s in scenarios if rx.search(s.name)]
    if a.list:
        for s in scenarios:
            reqs = sorted(set(implied_requirements(s.args) + s.requires))
            print('%-28s status=%-3d timeout=%-4g requires=%s' % (s.name, s.status, s.timeout,
                                                                  ','.join(reqs) or '-'))
        return 0

    os.makedirs(LOGDIR, exist_ok=True)
    passed = failed = skipped = 0
    todo = []
    for s in scenarios:
        why = None
        for r in implied_requirements(s.args) + s.requires:
            why = have(r)
            if why:
                break
        if why:
            print('SKIP %s: %s' % (s.name, why), flush=True)
            skipped += 1
        else:
            todo.append(s)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    interrupted = False
    pool = ThreadPoolExecutor(max_workers=max(1, a.jobs))
    try:
        futs = [pool.submit(run_scenario, s) for s in todo]
        for fut in as_completed(futs):
            verdict, sc, reason, log, dt = fut.result()
            rel = os.path.relpath(log, os.getcwd()) if log else None
            if verdict == 'PASS':
                passed += 1
                print('PASS %s (%.0fs)' % (sc.name, dt), flush=True)
            elif verdict == 'FAIL':
                failed += 1
                print('FAIL %s: %s (log: %s)' % (sc.name, reason, rel), flush=True)
            else:
                skipped += 1
                print('SKIP %s: %s' % (sc.name, reason), flush=True)
    except KeyboardInterrupt:
        interrupted = True
        global _stopping
        _stopping = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with _running_lock:
            procs = list(_running)
        for p in procs:
            kill_tree(p)
        pool.shutdown(wait=True, cancel_futures=True)
        print('e2e: interrupted', file=sys.stderr)
        failed += 1
    else:
        pool.shutdown(wait=True)
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    print(line, flush=True)
    if interrupted:
        return 130
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
