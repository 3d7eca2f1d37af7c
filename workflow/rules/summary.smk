# What the run says at the end: a summary when it succeeds (also in results/summary.txt), the
# one message that names the problem when it fails.
import time

RUN_STARTED = time.time()


onsuccess:
    from prevalence.workflow.summary import summary_ready, write_summary

    # a run of some targets only (data/processed/..., a table) has nothing to sum up
    if summary_ready(RESULTS, WAVES):
        text = write_summary(RESULTS, WAVES, elapsed=time.time() - RUN_STARTED)
        # `make run` prints the summary (or the failure) at its very end instead
        if os.environ.get("PREVALENCE_SUMMARY") != "later":
            print(f"\nsummary ({RESULTS}/summary.txt):\n{text}", end="", file=sys.stderr)


onerror:
    from prevalence.workflow.summary import failure_message

    message = failure_message(f"{RESULTS}/logs", since=RUN_STARTED)
    if message and os.environ.get("PREVALENCE_SUMMARY") != "later":
        print(f"\n{message}", file=sys.stderr)
