// Placeholder: this screen is being written.
import { h } from "../ui.js";

export default function view(main) {
  main.append(h("h1", {}, "Not built yet"), h("p", {}, "This screen is not part of the web app yet."));
}
