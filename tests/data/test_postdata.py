"""Splitting pg_dump's post-data section into steps and scheduling a restore's jobs: pure logic, no server."""

from __future__ import annotations

import threading
import time

import pytest

from pgparity.data.postdata import Job, conflicts, plan, run, steps

SCRIPT = '''--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: events_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_user_idx ON public.events USING btree (user_id) WHERE (kind <> 'x; Type: INDEX');


--
-- Name: "Odd ""Name"" idx"; Type: INDEX; Schema: app; Owner: -
--

CREATE UNIQUE INDEX "Odd ""Name"" idx" ON ONLY "my schema"."My ""Table""" USING btree (id);


--
-- Name: users_touch; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch();


--
-- Name: events events_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: CONSTRAINT events_user_id_fkey ON events; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON CONSTRAINT events_user_id_fkey ON public.events IS 'who did it';
'''


USERS, EVENTS = ("public", "users"), ("public", "events")


def test_steps_are_cut_at_pg_dumps_headers_with_the_tables_they_lock():
    preamble, found = steps(SCRIPT)
    assert preamble.startswith("--\n-- PostgreSQL database dump") and "set_config('search_path'" in preamble
    assert [(step.type, step.name) for step in found] == [
        ("CONSTRAINT", "users users_pkey"), ("INDEX", "events_user_idx"), ("INDEX", '"Odd ""Name"" idx"'),
        ("TRIGGER", "users_touch"), ("FK CONSTRAINT", "events events_user_id_fkey"),
        ("COMMENT", "CONSTRAINT events_user_id_fkey ON events")]
    tables = [step.tables for step in found]
    assert tables[0] == {USERS} and tables[1] == {EVENTS}
    assert tables[2] == {("my schema", 'My "Table"')}
    assert tables[4] == {EVENTS, USERS}
    assert "WHERE (kind <> 'x; Type: INDEX')" in found[1].statement  # a header only starts a line
    assert all(step.statement.strip().endswith(";") for step in found)


def noop() -> None:
    pass


def test_keys_wait_for_their_table_foreign_keys_for_both_tables_keys_and_the_rest_for_everything():
    _, found = steps(SCRIPT)
    loads = [Job("load events", frozenset({EVENTS}), noop), Job("load users", frozenset({USERS}), noop)]
    analyze = [Job("analyze users", frozenset({USERS}), noop)]
    jobs = plan(loads, found, lambda step: None, analyze)
    named = {job.name: (position, job) for position, job in enumerate(jobs)}
    position = {name: index for name, (index, _) in named.items()}
    needs = {name: {jobs[i].name for i in job.needs} for name, (_, job) in named.items()}
    assert list(position)[:2] == ["load events", "load users"]
    assert needs["constraint users users_pkey"] == {"load users"}
    assert needs["index events_user_idx"] == {"load events"}
    assert needs['index "Odd ""Name"" idx"'] == set()  # a table nobody loads
    assert needs["fk constraint events events_user_id_fkey"] == {
        "load events", "load users", "constraint users users_pkey", "index events_user_idx"}
    assert needs["trigger users_touch"] == set(list(position)[:position["trigger users_touch"]])
    assert "trigger users_touch" in needs["comment CONSTRAINT events_user_id_fkey ON events"]
    assert needs["analyze users"] == {"load users", "constraint users users_pkey",
                                      "fk constraint events events_user_id_fkey"}


def test_jobs_run_in_parallel_but_never_two_on_one_table_nor_before_what_they_need():
    log: list[str] = []
    running: set[str] = set()
    lock = threading.Lock()
    overlaps: list[tuple[str, str]] = []
    widest = [0]

    def job(name: str, table: str):
        def action() -> None:
            with lock:
                overlaps.extend((name, other) for other in running if set(other.split(":")[1]) & set(table))
                running.add(f"{name}:{table}")
                widest[0] = max(widest[0], len(running))
            time.sleep(0.02)
            with lock:
                running.discard(f"{name}:{table}")
                log.append(name)
        return action

    jobs = [Job("a1", frozenset({("s", "a")}), job("a1", "a")), Job("b1", frozenset({("s", "b")}), job("b1", "b")),
            Job("a2", frozenset({("s", "a")}), job("a2", "a")), Job("ab", frozenset({("s", "a"), ("s", "b")}),
                                                                     job("ab", "ab"), frozenset({0, 1}))]
    run(jobs, workers=2)
    assert widest[0] == 2 and not overlaps
    assert set(log) == {"a1", "b1", "a2", "ab"} and log.index("ab") > max(log.index("a1"), log.index("b1"))


def test_the_first_failure_stops_the_run_and_is_raised():
    ran: list[str] = []

    def fail() -> None:
        raise ValueError("boom")

    jobs = [Job("bad", frozenset({("s", "a")}), fail), Job("after", frozenset({("s", "b")}), lambda: ran.append("x"),
                                                             frozenset({0}))]
    with pytest.raises(ValueError, match="boom"):
        run(jobs, workers=2)
    assert ran == []


def test_steps_sharing_a_table_or_of_unknown_tables_never_run_together():
    users, events = frozenset({USERS}), frozenset({EVENTS})
    assert not conflicts(users, [])
    assert not conflicts(users, [events])
    assert conflicts(users, [events | users])
    assert conflicts(None, [events])
    assert conflicts(users, [None])
    assert not conflicts(None, [])


def test_a_script_without_headers_is_all_preamble():
    assert steps("SET x = 1;\n") == ("SET x = 1;\n", [])
