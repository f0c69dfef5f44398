/** Styles are bundled by Vite; importing one yields nothing. */
declare module '*.css'
