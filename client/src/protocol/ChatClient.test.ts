import { beforeEach, describe, expect, it } from "vitest";
import { ChatClient, type SocketLike } from "./ChatClient";

/** A socket the test plays the server of: it records what the client sends and delivers what the test says. */
class FakeSocket implements SocketLike {
  sent: Record<string, unknown>[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
  }
  deliver(frame: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

class MemoryStorage {
  items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

const message = (seq: number, text = `m${seq}`, from = "bob", id?: string) => ({ type: "message", room: "lobby", seq, from, text, id, ts: "2026-11-28T10:00:00.000Z" });

describe("ChatClient", () => {
  let sockets: FakeSocket[];
  let timers: (() => void)[];
  let storage: MemoryStorage;
  let client: ChatClient;
  const socket = () => sockets[sockets.length - 1];

  const connected = (session = "s1", resumed = false) => {
    socket().deliver({ type: "welcome", session, resume: `${session}.secret`, resumed });
  };

  beforeEach(() => {
    sockets = [];
    timers = [];
    storage = new MemoryStorage();
    client = new ChatClient("ws://test/ws", {
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      storage,
      backoffMs: [100, 200],
      schedule: (fn) => timers.push(fn),
    });
    client.connect();
    connected();
    client.register("alice");
    socket().deliver({ type: "registered", name: "alice" });
    client.join("lobby");
    socket().deliver({ type: "joined", room: "lobby", members: ["alice", "bob"], history: [message(1), message(2)] });
  });

  it("shows history and live messages once each, in seq order", () => {
    socket().deliver(message(3));
    socket().deliver(message(3));
    socket().deliver(message(2));
    const lobby = client.getState().rooms[0];
    expect(lobby.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(lobby.members).toEqual(["alice", "bob"]);
  });

  it("asks for what a gap left out with join since, once, and merges it", () => {
    socket().deliver(message(5));
    socket().deliver(message(6));
    const joins = socket().sent.filter((f) => f.type === "join" && f.since !== undefined);
    expect(joins).toEqual([{ type: "join", room: "lobby", since: 2 }]);
    socket().deliver({ type: "joined", room: "lobby", members: ["alice", "bob"], history: [message(3), message(4), message(5), message(6)] });
    expect(client.getState().rooms[0].messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("reconnects with backoff and the resume token, then catches up", () => {
    socket().drop();
    expect(client.getState().status).toBe("reconnecting");
    expect(timers).toHaveLength(1);
    timers.shift()!();
    expect(socket().url).toBe("ws://test/ws?resume=s1.secret");
    connected("s1", true);
    expect(client.getState().status).toBe("connected");
    expect(socket().sent).toContainEqual({ type: "join", room: "lobby", since: 2 });
    expect(socket().sent.some((f) => f.type === "register")).toBe(false);
  });

  it("does not take its session back when another window resumed it", () => {
    socket().drop(4001);
    expect(client.getState().status).toBe("taken_over");
    expect(timers).toHaveLength(0);
  });

  it("takes a catch-up in parts: joined with more, then the rest as messages", () => {
    socket().deliver(message(5));
    socket().deliver({ type: "joined", room: "lobby", members: ["alice", "bob"], history: [message(3)], more: true });
    socket().deliver(message(4));
    expect(client.getState().rooms[0].messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("resends its unconfirmed messages under the same id after a reconnect", () => {
    client.say("lobby", "are you there?");
    const said = socket().sent.find((f) => f.type === "say")!;
    socket().drop();
    timers.shift()!();
    connected("s1", true);
    const resent = socket().sent.find((f) => f.type === "say")!;
    expect(resent).toEqual(said);

    socket().deliver(message(3, "are you there?", "alice", said.id as string));
    socket().drop();
    timers.shift()!();
    connected("s1", true);
    expect(socket().sent.some((f) => f.type === "say")).toBe(false);
  });

  it("sends a message the server refused rate_limited again after a pause, without showing an error", () => {
    client.say("lobby", "busy?");
    const said = socket().sent.find((f) => f.type === "say")!;
    socket().deliver({ type: "error", code: "rate_limited", message: "Send it again later.", ref: "say", id: said.id });
    expect(client.getState().lastError).toBeUndefined();
    expect(socket().sent.filter((f) => f.type === "say")).toHaveLength(1);
    timers.shift()!();
    expect(socket().sent.filter((f) => f.type === "say")).toEqual([said, said]);

    socket().deliver(message(3, "busy?", "alice", said.id as string));
    socket().deliver({ type: "error", code: "rate_limited", message: "Send it again later.", ref: "say", id: said.id });
    expect(client.getState().lastError?.code).toBe("rate_limited"); // no longer ours to send: shown
  });

  it("on a fresh session claims its name again and rejoins its rooms", () => {
    socket().drop();
    timers.shift()!();
    connected("s2", false);
    expect(socket().sent.slice(0, 2)).toEqual([
      { type: "register", name: "alice" },
      { type: "join", room: "lobby", since: 2 },
    ]);
  });

  it("keeps the session across a page reload through storage", () => {
    const reloaded = new ChatClient("ws://test/ws", {
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      storage,
    });
    reloaded.connect();
    expect(socket().url).toBe("ws://test/ws?resume=s1.secret");
    connected("s1", true);
    expect(socket().sent).toContainEqual({ type: "join", room: "lobby" });
    expect(reloaded.getState().name).toBe("alice");
  });

  it("counts unread messages of rooms not on screen and shows errors", () => {
    client.join("games");
    socket().deliver({ type: "joined", room: "games", members: ["alice"], history: [] });
    socket().deliver(message(3));
    expect(client.getState().rooms.find((r) => r.name === "lobby")!.unread).toBe(0);
    client.show("games");
    socket().deliver(message(4));
    expect(client.getState().rooms.find((r) => r.name === "lobby")!.unread).toBe(1);
    client.show("lobby");
    expect(client.getState().rooms.find((r) => r.name === "lobby")!.unread).toBe(0);

    socket().deliver({ type: "error", code: "unavailable", message: "later", ref: "say" });
    expect(client.getState().status).toBe("unavailable");
    expect(client.getState().lastError?.code).toBe("unavailable");
  });
});
