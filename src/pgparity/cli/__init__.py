"""The shell: invoke tasks, the console program, the error boundary and the report, the only printer."""
