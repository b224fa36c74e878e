import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent } from "react";
import type { ChatClient, ChatError, RoomView, Status } from "./protocol/ChatClient";

const statusText: Record<Status, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  unavailable: "Service unavailable",
  taken_over: "This session continues in another window",
};

const errorText: Record<string, string> = {
  name_taken: "That name is taken. Pick another one.",
  invalid_name: "Names are 1-24 letters, digits, _ or -.",
  invalid_room: "Room names are 1-32 lower-case letters, digits, _ or -.",
  not_registered: "Choose a name first.",
  not_joined: "Join the room first.",
  invalid_text: "Messages are 1-4000 characters.",
  unavailable: "The service is unavailable right now; your message was not sent. Try again shortly.",
  rate_limited: "Slow down a little.",
};

const describe = (error: ChatError) => errorText[error.code] ?? error.message;

export function App({ client }: { client: ChatClient }) {
  const state = useSyncExternalStore(client.subscribe, client.getState);
  const visible = state.rooms.find((room) => room.name === state.visibleRoom);

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">SocketStarter</span>
        {state.name && <span className="me">{state.name}</span>}
        <span className={`status status-${state.status}`} data-testid="status" data-status={state.status}>
          {statusText[state.status]}
        </span>
      </header>
      {state.name ? (
        <main className="layout">
          <Sidebar client={client} rooms={state.rooms} visible={visible} error={state.lastError} />
          <RoomPane client={client} room={visible} me={state.name} error={state.lastError} />
        </main>
      ) : (
        <Register client={client} error={state.lastError} />
      )}
    </div>
  );
}

function Register({ client, error }: { client: ChatClient; error?: ChatError }) {
  const [name, setName] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) client.register(name.trim());
  };
  return (
    <form className="register card" onSubmit={submit}>
      <h1>Join the chat</h1>
      <label htmlFor="name">Your name</label>
      <input id="name" data-testid="name-input" value={name} autoFocus maxLength={24} placeholder="e.g. alice"
        onChange={(e) => setName(e.target.value)} />
      <button data-testid="register-button" type="submit">Start chatting</button>
      {error && error.ref === "register" && <p className="error" role="alert">{describe(error)}</p>}
    </form>
  );
}

function Sidebar({ client, rooms, visible, error }: { client: ChatClient; rooms: RoomView[]; visible?: RoomView; error?: ChatError }) {
  const [room, setRoom] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const name = room.trim().toLowerCase();
    if (!name) return;
    client.join(name);
    client.show(name);
    setRoom("");
  };
  return (
    <aside className="sidebar">
      <section>
        <h2>Rooms</h2>
        <ul className="rooms">
          {rooms.map((r) => (
            <li key={r.name}>
              <button className={r.name === visible?.name ? "room active" : "room"} onClick={() => client.show(r.name)}>
                <span># {r.name}</span>
                {r.unread > 0 && <span className="badge" aria-label={`${r.unread} unread`}>{r.unread}</span>}
              </button>
            </li>
          ))}
        </ul>
        <form className="join" onSubmit={submit}>
          <input data-testid="room-input" value={room} placeholder="room name" maxLength={32} onChange={(e) => setRoom(e.target.value)} />
          <button data-testid="join-button" type="submit">Join</button>
        </form>
        {error && (error.ref === "join" || error.ref === "leave") && <p className="error" role="alert">{describe(error)}</p>}
      </section>
      {visible && (
        <section>
          <h2>Members · {visible.members.length}</h2>
          <ul className="members" data-testid="members">
            {visible.members.map((m) => <li key={m}>{m}</li>)}
          </ul>
          <button className="leave" onClick={() => client.leave(visible.name)}>Leave # {visible.name}</button>
        </section>
      )}
    </aside>
  );
}

function RoomPane({ client, room, me, error }: { client: ChatClient; room?: RoomView; me: string; error?: ChatError }) {
  const [text, setText] = useState("");
  const list = useRef<HTMLOListElement>(null);
  const count = room?.messages.length ?? 0;
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "end" });
  }, [count, room?.name]);

  if (!room) {
    return (
      <section className="pane empty">
        <p>Join a room to start chatting: type a name like <b>lobby</b> and press Join.</p>
      </section>
    );
  }
  const send = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    client.say(room.name, text);
    setText("");
  };
  return (
    <section className="pane">
      <h2 className="room-title"># {room.name}</h2>
      <ol className="messages" data-testid="messages" ref={list}>
        {room.messages.map((m) => (
          <li key={m.seq} data-testid="message" data-seq={m.seq} className={m.from === me ? "message own" : "message"}>
            <div className="meta">
              <span className="from">{m.from === me ? "You" : m.from}</span>
              <time dateTime={m.ts}>{new Date(m.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</time>
            </div>
            <div className="text">{m.text}</div>
          </li>
        ))}
      </ol>
      {error && (error.ref === "say" || error.code === "unavailable") && <p className="error" role="alert">{describe(error)}</p>}
      <form className="composer" onSubmit={send}>
        <input data-testid="message-input" value={text} placeholder={`Message # ${room.name}`} maxLength={4000}
          onChange={(e) => setText(e.target.value)} />
        <button data-testid="send-button" type="submit">Send</button>
      </form>
    </section>
  );
}
