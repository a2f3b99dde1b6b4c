from rooms.ids import (
    ADJECTIVES,
    ANIMALS,
    MemberId,
    RoomId,
    facilitator_participant_id,
    handle_candidate,
    is_valid_room_id,
    participant_id,
)

KEY = b"k" * 32


def test_participant_ids_are_stable_and_unlinkable_across_rooms() -> None:
    m = MemberId("member-1")
    a1 = participant_id(KEY, m, RoomId("anxiety"))
    assert a1 == participant_id(KEY, m, RoomId("anxiety"))
    assert a1 != participant_id(KEY, m, RoomId("grief"))
    assert a1 != participant_id(b"x" * 32, m, RoomId("anxiety"))
    assert len(a1) == 16 and int(a1, 16) >= 0


def test_a_facilitator_id_is_never_a_members_participant() -> None:
    room = RoomId("anxiety")
    f1 = facilitator_participant_id(KEY, "f1", room)
    assert f1 == facilitator_participant_id(KEY, "f1", room)  # every device, every reconnect
    assert f1 != facilitator_participant_id(KEY, "f1", RoomId("grief"))
    assert f1 != facilitator_participant_id(KEY, "f2", room)
    # even a member id spelled like the facilitator id names another participant
    assert f1 != participant_id(KEY, MemberId("f1"), room)
    assert len(f1) == 16


def test_parts_cannot_be_shifted_between_member_and_room() -> None:
    assert participant_id(KEY, MemberId("ab"), RoomId("c")) != participant_id(
        KEY, MemberId("a"), RoomId("bc")
    )


def test_handle_candidates_are_words_then_numbered() -> None:
    m, r = MemberId("m"), RoomId("anxiety")
    first = handle_candidate(KEY, m, r, 0)
    adjective, animal = first.split(" ")
    assert adjective in ADJECTIVES and animal in ANIMALS
    assert first == handle_candidate(KEY, m, r, 0)
    numbered = handle_candidate(KEY, m, r, 9)
    assert numbered.split(" ")[-1].isdigit()
    assert len({handle_candidate(KEY, m, r, i) for i in range(8)}) > 1


def test_word_lists_have_no_repeats() -> None:
    assert len(set(ADJECTIVES)) == len(ADJECTIVES)
    assert len(set(ANIMALS)) == len(ANIMALS)


def test_room_id_shape() -> None:
    assert is_valid_room_id("grief-and-loss")
    assert not is_valid_room_id("Grief")
    assert not is_valid_room_id("-x")
    assert not is_valid_room_id("a" * 64)
