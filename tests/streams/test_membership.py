"""Group membership on the embedded broker: dead members swept, empty assignments joined again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from schemas.settings import Settings
from streams.service.membership import (DeadMemberSweeper, install_empty_assignment_rejoin, member_client_id,
                                        member_is_dead, pid_of, process_alive)


def test_the_client_id_names_the_process_and_run_only_with_the_embedded_broker() -> None:
    assert member_client_id(Settings(), pid=42, run="ab12") == "adsent.pid42.ab12"
    assert pid_of("adsent.pid42.ab12") == (42, "ab12") and pid_of("adsent") is None and pid_of("faust-0.15.3") is None
    assert member_client_id(Settings(kafka_bootstrap_servers="kafka:9092"), pid=42) == "adsent"


def test_a_member_is_dead_when_its_process_is_gone_or_an_earlier_run_of_this_one() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert member_is_dead(f"adsent.pid{child.pid}.ab12")
    assert member_is_dead(f"adsent.pid{os.getpid()}.0000dead")  # this process before an in-place restart
    assert not member_is_dead(member_client_id(Settings()))
    assert not member_is_dead("another-client")


def test_process_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_alive(os.getpid()) and not process_alive(child.pid)


def test_an_empty_assignment_means_join_again() -> None:
    from aiokafka.consumer.group_coordinator import CoordinatorGroupRebalance

    original = CoordinatorGroupRebalance.perform_group_join
    answers = iter([("faust", b""), ("faust", b"\x00\x04")])

    async def broker_join(self):
        return next(answers)

    CoordinatorGroupRebalance.perform_group_join = broker_join
    import streams.service.membership as membership

    membership._installed = False
    try:
        install_empty_assignment_rejoin()
        rejoins: list[bool] = []
        rebalance = SimpleNamespace(group_id="g", _coordinator=SimpleNamespace(request_rejoin=lambda: rejoins.append(True)))
        join = CoordinatorGroupRebalance.perform_group_join
        assert asyncio.run(join(rebalance)) is None and rejoins == [True]
        assert asyncio.run(join(rebalance)) == ("faust", b"\x00\x04")
    finally:
        CoordinatorGroupRebalance.perform_group_join = original
        membership._installed = False


MEMBER = """
import asyncio, sys
from aiokafka import AIOKafkaConsumer
async def main():
    consumer = AIOKafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id=sys.argv[3],
                                client_id=sys.argv[4], session_timeout_ms=6000)
    await consumer.start()
    while not consumer.assignment():
        await asyncio.sleep(0.1)
    print("joined", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


@pytest.mark.integration
def test_the_sweeper_removes_members_whose_process_died(broker_settings) -> None:
    from kafka import KafkaAdminClient

    from streams.service.kafka_config import bootstrap_servers, client_options

    group = "sweep-test"
    member = subprocess.Popen([sys.executable, "-c", MEMBER, bootstrap_servers(broker_settings),
                               broker_settings.topic_uploaded, group, "placeholder"], stdout=subprocess.PIPE, text=True)
    member.kill()
    member.wait()
    dead_id = f"adsent.pid{member.pid}.ab12"  # the id of a process that is gone
    member = subprocess.Popen([sys.executable, "-c", MEMBER, bootstrap_servers(broker_settings),
                               broker_settings.topic_uploaded, group, dead_id], stdout=subprocess.PIPE, text=True)
    assert member.stdout.readline().strip() == "joined"
    member.kill()
    member.wait()
    admin = KafkaAdminClient(**client_options(broker_settings))
    try:
        assert len(admin.describe_groups([group])[group]["members"]) == 1  # the broker keeps the dead member
        sweeper = DeadMemberSweeper(broker_settings, group)
        assert len(sweeper.sweep()) == 1
        sweeper.close()
        deadline = time.monotonic() + 10
        while admin.describe_groups([group])[group]["members"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert admin.describe_groups([group])[group]["members"] == []
    finally:
        admin.close()


def test_the_sweeper_leaves_live_and_foreign_members() -> None:
    class Admin:
        removed: list = []

        def describe_groups(self, groups):
            return {"g": {"members": [{"member_id": "a", "client_id": member_client_id(Settings())},
                                      {"member_id": "b", "client_id": "some-other-client"}]}}

        def remove_group_members(self, group, members):
            self.removed.extend(members)

    sweeper = DeadMemberSweeper(Settings(), "g")
    sweeper._admin = Admin()
    assert sweeper.sweep() == [] and Admin.removed == []
