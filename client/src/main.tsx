import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { ChatClient } from "./protocol/ChatClient";
import "./styles.css";

const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const client = new ChatClient(url, { storage: sessionStorage });
client.connect();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
