"""`make demo`: walk an app of the local environment through steps and show the measured split.

For each step it runs playbooks/migrate.yml, sends real requests through HAProxy and counts
who answered from X-Backend-Server. A `dns` step (after 100) waits for the app's soak, moves the
app's record in the local Route53 (moto) to the ELB and prints the record.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import traffic  # noqa: E402


# The local inventory's dns.soak_seconds (2), and a margin.
LOCAL_SOAK_SECONDS = 3


def show_record(app):
    command = [os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "scripts", "democtl"), "dns", app]
    completed = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
    return (completed.stdout or completed.stderr).strip()


def run_step(app, step):
    command = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "playbooks/migrate.yml",
               "-e", "app=%s" % app, "-e", "step=%s" % step]
    print("\n$ ansible-playbook " + " ".join(command[1:]), flush=True)
    completed = subprocess.run(command, cwd=ROOT, check=False)
    if completed.returncode:
        sys.exit("migrate.yml failed at step %s (exit %d)" % (step, completed.returncode))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="application-01")
    parser.add_argument("--host", help="Host header (default: <app>.6play.fr)")
    parser.add_argument("--steps", default="0,1,25,50,100,dns")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    host = args.host or args.app + ".6play.fr"
    offset = int(os.environ.get("CLOUDSHIFT_PORT_OFFSET", "0") or 0)
    url = "http://127.0.0.1:%d/" % (8080 + offset)
    summary = []
    for step in [s.strip() for s in args.steps.split(",") if s.strip()]:
        if step in ("dns", "dns-rollback"):
            if step == "dns":
                print("\nwaiting %d s: DNS moves only after the app has held step 100 for its soak" % LOCAL_SOAK_SECONDS)
                time.sleep(LOCAL_SOAK_SECONDS)
            before = show_record(args.app)
            run_step(args.app, step)
            after = show_record(args.app)
            summary.append((step, None, None, None, "%s -> %s" % (before, after)))
            print("step %s: %s -> %s" % (step, before, after), flush=True)
            continue
        run_step(args.app, step)
        result = traffic.send_concurrently(url, host, args.requests, workers=4)
        cloud = result.share(lambda name: name.startswith("aws-"))
        summary.append((step, result.sent, cloud, result.failed, dict(result.by_server)))
        print("step %s: %d requests, %.1f%% to the cloud, %d failed, by server: %s"
              % (step, result.sent, cloud or 0.0, result.failed, dict(result.by_server)), flush=True)
    print("\nMeasured split of %s (%d requests a step, counted from X-Backend-Server):" % (args.app, args.requests))
    print("%-6s %-9s %-12s %-8s" % ("step", "requests", "cloud share", "failed"))
    for step, sent, cloud, failed, servers in summary:
        if sent is None:
            print("%-6s the DNS record: %s" % (step, servers))
            continue
        print("%-6s %-9d %-12s %-8d" % (step, sent, "%.1f%%" % cloud if cloud is not None else "-", failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
