"""`make demo`: walk an app of the local environment through steps and show the measured split.

For each step it runs playbooks/migrate.yml, sends real requests through HAProxy and counts
who answered from X-Backend-Server.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import traffic  # noqa: E402


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
    parser.add_argument("--steps", default="0,1,25,50,100")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    host = args.host or args.app + ".6play.fr"
    offset = int(os.environ.get("CLOUDSHIFT_PORT_OFFSET", "0") or 0)
    url = "http://127.0.0.1:%d/" % (8080 + offset)
    summary = []
    for step in [s.strip() for s in args.steps.split(",") if s.strip()]:
        run_step(args.app, step)
        result = traffic.send_concurrently(url, host, args.requests, workers=4)
        cloud = result.share(lambda name: name.startswith("aws-"))
        summary.append((step, result.sent, cloud, result.failed, dict(result.by_server)))
        print("step %s: %d requests, %.1f%% to the cloud, %d failed, by server: %s"
              % (step, result.sent, cloud or 0.0, result.failed, dict(result.by_server)), flush=True)
    print("\nMeasured split of %s (%d requests a step, counted from X-Backend-Server):" % (args.app, args.requests))
    print("%-6s %-9s %-12s %-8s" % ("step", "requests", "cloud share", "failed"))
    for step, sent, cloud, failed, _servers in summary:
        print("%-6s %-9d %-12s %-8d" % (step, sent, "%.1f%%" % cloud if cloud is not None else "-", failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
