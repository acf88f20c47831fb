"""Splitting pg_dump's post-data section into steps and ordering them: pure logic, no server."""

from __future__ import annotations

from pgparity.postdata import conflicts, steps, waves

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


def test_steps_are_cut_at_pg_dumps_headers_with_the_tables_they_lock():
    preamble, found = steps(SCRIPT)
    assert preamble.startswith("--\n-- PostgreSQL database dump") and "set_config('search_path'" in preamble
    assert [(step.type, step.name) for step in found] == [
        ("CONSTRAINT", "users users_pkey"), ("INDEX", "events_user_idx"), ("INDEX", '"Odd ""Name"" idx"'),
        ("TRIGGER", "users_touch"), ("FK CONSTRAINT", "events events_user_id_fkey"),
        ("COMMENT", "CONSTRAINT events_user_id_fkey ON events")]
    tables = [step.tables for step in found]
    assert tables[0] == {"public.users"} and tables[1] == {"public.events"}
    assert tables[2] == {'"my schema"."My ""Table"""'}
    assert tables[4] == {"public.events", "public.users"}
    assert "WHERE (kind <> 'x; Type: INDEX')" in found[1].statement  # a header only starts a line
    assert all(step.statement.strip().endswith(";") for step in found)


def test_keys_and_indexes_come_first_then_foreign_keys_then_the_rest_in_order():
    _, found = steps(SCRIPT)
    ordered = waves(found)
    assert [[step.type for step in wave] for wave in ordered] == [
        ["CONSTRAINT", "INDEX", "INDEX"], ["FK CONSTRAINT"], ["TRIGGER"], ["COMMENT"]]


def test_steps_sharing_a_table_or_of_unknown_tables_never_run_together():
    users, events = frozenset({"public.users"}), frozenset({"public.events"})
    assert not conflicts(users, [])
    assert not conflicts(users, [events])
    assert conflicts(users, [events | users])
    assert conflicts(None, [events])
    assert conflicts(users, [None])
    assert not conflicts(None, [])


def test_a_script_without_headers_is_all_preamble():
    assert steps("SET x = 1;\n") == ("SET x = 1;\n", [])
